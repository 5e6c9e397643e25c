package com.example.gracefulsequence.state;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.stream.Stream;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link StateFileWriter} and {@link StateFileHealthIndicator}.
 *
 * @author graceful-sequence contributors
 */
@ExtendWith(OutputCaptureExtension.class)
class StateFileWriterTests {

	private static final Instant NOW = Instant.parse("2026-11-26T10:15:30.123Z");

	private final SimpleMeterRegistry meterRegistry = new SimpleMeterRegistry();

	@TempDir
	Path directory;

	private StateFileWriter writer(Path path) {
		Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
		return new StateFileWriter(new StateFile(path, clock), clock, this.meterRegistry);
	}

	private double healthy() {
		return this.meterRegistry.get("sequence.state.healthy").gauge().value();
	}

	private static Health health(StateFileWriter writer) {
		return new StateFileHealthIndicator(writer).health();
	}

	@Test
	void writeReplacesTheFileAndLeavesNoTemporaryFileBehind() throws IOException {
		Path path = this.directory.resolve("last.txt");
		StateFileWriter stateFile = writer(path);
		stateFile.write(1, NOW);
		stateFile.write(119, NOW);
		assertThat(Files.readString(path)).isEqualTo("Last number from random sequence: 119\n");
		try (Stream<Path> files = Files.list(this.directory)) {
			assertThat(files).containsExactly(path);
		}
		assertThat(this.meterRegistry.get("sequence.state.writes").tag("outcome", "success").counter().count())
			.isEqualTo(2);
	}

	@Test
	void writesThatFailNowAndThenAreLoggedAtMostOnceAMinute(CapturedOutput output) throws IOException {
		Path state = Files.createDirectory(this.directory.resolve("state"));
		Path path = state.resolve("last.txt");
		StateFileWriter stateFile = writer(path);
		for (int value = 1; value <= 3; value++) {
			Files.deleteIfExists(path);
			Files.delete(state);
			Files.writeString(state, "now a file");
			stateFile.write(value, NOW);
			Files.delete(state);
			Files.createDirectory(state);
			stateFile.write(value, NOW);
		}
		assertThat(this.meterRegistry.get("sequence.state.writes").tag("outcome", "failure").counter().count())
			.isEqualTo(3);
		assertThat(output.toString().lines().filter((line) -> line.contains("Could not write state file"))).hasSize(1);
		assertThat(health(stateFile).getStatus()).isEqualTo(Status.UP);
	}

	@Test
	void failedWritesAreCountedLoggedOnceAndReportedAsHealthUntilAWriteSucceeds(CapturedOutput output)
			throws IOException {
		Path state = Files.createDirectory(this.directory.resolve("state"));
		Path path = state.resolve("last.txt");
		StateFileWriter stateFile = writer(path);
		assertThat(healthy()).as("before any write").isOne();
		stateFile.write(1, NOW);
		assertThat(healthy()).isOne();
		Files.delete(path);
		Files.delete(state);
		Files.writeString(state, "now a file");
		stateFile.write(2, NOW);
		assertThat(healthy()).isZero();
		stateFile.write(3, NOW);
		stateFile.write(4, NOW);
		assertThat(this.meterRegistry.get("sequence.state.writes").tag("outcome", "failure").counter().count())
			.isEqualTo(3);
		assertThat(output.toString().lines().filter((line) -> line.contains("Could not write state file"))).hasSize(1);
		assertThat(health(stateFile).getStatus()).isEqualTo(Status.DOWN);
		assertThat(health(stateFile).getDetails()).containsEntry("consecutiveFailures", 3L)
			.containsEntry("path", path.toString());
		Files.delete(state);
		Files.createDirectory(state);
		stateFile.write(5, NOW);
		assertThat(health(stateFile).getStatus()).isEqualTo(Status.UP);
		assertThat(healthy()).isOne();
		assertThat(path).hasContent("Last number from random sequence: 5");
		assertThat(output).contains("State file " + path + " is written again after 3 failed write(s)");
	}

}

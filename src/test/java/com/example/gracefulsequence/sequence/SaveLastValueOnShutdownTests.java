package com.example.gracefulsequence.sequence;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import com.example.gracefulsequence.state.StateFile;
import com.example.gracefulsequence.state.StateFileWriter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link SaveLastValueOnShutdown}.
 *
 * @author graceful-sequence contributors
 */
@ExtendWith(OutputCaptureExtension.class)
class SaveLastValueOnShutdownTests {

	private static final Instant NOW = Instant.parse("2026-11-26T10:15:30.123Z");

	private final SimpleMeterRegistry meterRegistry = new SimpleMeterRegistry();

	@TempDir
	Path directory;

	private SequenceHub hub;

	private SaveLastValueOnShutdown step(Path path) {
		Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
		StateFile stateFile = new StateFile(path, clock);
		SequenceProperties properties = new SequenceProperties(Duration.ofSeconds(2), 120, null, path, 10, 0,
				new SequenceProperties.Stream(Duration.ofSeconds(3), 64, Duration.ofSeconds(15)),
				new SequenceProperties.Cors(List.of()), new SequenceProperties.FastPath(true),
				new SequenceProperties.Cluster(false, Duration.ofSeconds(5), 0));
		this.hub = new SequenceConfiguration().sequenceHub(properties, new SubscriberCapacity(10, Long.MAX_VALUE),
				stateFile, new StaticListableBeanFactory().getBeanProvider(SequenceOrigin.class));
		return new SaveLastValueOnShutdown(this.hub, new StateFileWriter(stateFile, clock, this.meterRegistry));
	}

	@Test
	void writesTheLatestValueAgainWithItsEmissionTime(CapturedOutput output) throws IOException {
		Path path = this.directory.resolve("last.txt");
		SaveLastValueOnShutdown step = step(path);
		this.hub.publish(new SequenceValue(9, 1, NOW, SequenceValue.Source.LIVE));
		step.destroy();
		assertThat(Files.readString(path, StandardCharsets.UTF_8)).isEqualTo("Last number from random sequence: 9\n");
		assertThat(Files.getLastModifiedTime(path).toInstant()).isEqualTo(NOW);
		assertThat(output).contains("Saved last value 9 to state file " + path);
	}

	@Test
	void writesARestoredValueWhenNothingWasProduced() throws IOException {
		Path path = this.directory.resolve("last.txt");
		Files.writeString(path, "Last number from random sequence: 17");
		step(path).destroy();
		assertThat(path).hasContent("Last number from random sequence: 17");
		assertThat(Files.readString(path)).endsWith("\n");
	}

	@Test
	void writesNothingWhenNothingWasProducedOrRestored(CapturedOutput output) {
		Path path = this.directory.resolve("last.txt");
		step(path).destroy();
		assertThat(path).doesNotExist();
		assertThat(output).contains("No value to save to state file " + path);
	}

}

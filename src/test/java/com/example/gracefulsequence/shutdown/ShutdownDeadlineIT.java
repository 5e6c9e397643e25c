package com.example.gracefulsequence.shutdown;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.example.gracefulsequence.ServiceProcess;
import com.example.gracefulsequence.ShutdownLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The one deadline on the whole shutdown, on the packaged jar: refused at startup when it
 * leaves no room for the drain, and enforced with an ERROR and status 1 when a step
 * hangs.
 *
 * @author graceful-sequence contributors
 */
class ShutdownDeadlineIT {

	@Test
	void whenTheDeadlineIsNotGreaterThanTheDrainDelayPlusThePhaseTimeoutThenStartupFails(@TempDir Path directory)
			throws Exception {
		try (ServiceProcess service = ServiceProcess.start(directory, "--shutdown.deadline=20s")) {
			assertThat(service.awaitExit(Duration.ofSeconds(60))).isEqualTo(1);
			assertThat(service.logLines()).contains("APPLICATION FAILED TO START")
				.anySatisfy((line) -> assertThat(line)
					.startsWith("Invalid value '20s' for configuration property 'shutdown.deadline'"))
				.anySatisfy((line) -> assertThat(line).contains("shutdown.drain-delay")
					.contains("spring.lifecycle.timeout-per-shutdown-phase"));
			assertThat(service.stateFile()).doesNotExist();
		}
	}

	@Test
	void whenTheFinalStateFileWriteHangsThenTheProcessHaltsAtTheDeadlineWithStatus1(@TempDir Path directory)
			throws Exception {
		// A value restored from the last run: the first new one comes only an hour later
		int first = 42;
		Files.writeString(directory.resolve(ServiceProcess.STATE_FILE), "Last number from random sequence: 42\n");
		try (ServiceProcess service = ServiceProcess.start(directory, "--sequence.period=1h",
				"--spring.lifecycle.timeout-per-shutdown-phase=1s", "--shutdown.deadline=3s")) {
			service.awaitReady();
			Path stateFile = service.stateFile();
			// Opening a FIFO for writing blocks until a reader comes, and none will
			Path temporary = stateFile.resolveSibling(stateFile.getFileName() + ".tmp");
			mkfifo(temporary);
			long signalled = System.nanoTime();
			service.sigterm();
			assertThat(service.awaitExit(Duration.ofSeconds(30))).isEqualTo(1);
			Duration shutdown = Duration.ofNanos(System.nanoTime() - signalled);
			assertThat(shutdown).isGreaterThanOrEqualTo(Duration.ofSeconds(3)).isLessThan(Duration.ofSeconds(15));
			assertThat(service.logLines()).filteredOn((line) -> line.contains(" ERROR "))
				.map(ServiceProcess::message)
				.containsExactly("Shutdown did not complete within the deadline of PT3S; it was stuck in step 7 "
						+ "(state-file); halting with status 1");
			List<String> steps = ShutdownLog.expected(false, false);
			assertThat(ShutdownLog.milestones(service.messages()))
				.containsExactlyElementsOf(steps.subList(0, steps.indexOf(ShutdownLog.PRODUCER) + 1));
			assertThat(stateFile).as("the file was already current")
				.hasContent("Last number from random sequence: " + first);
		}
	}

	private static void mkfifo(Path path) throws Exception {
		Process mkfifo = new ProcessBuilder("mkfifo", path.toString()).redirectErrorStream(true).start();
		assertThat(mkfifo.waitFor(10, TimeUnit.SECONDS)).isTrue();
		assertThat(mkfifo.exitValue()).as(new String(mkfifo.getInputStream().readAllBytes())).isZero();
		assertThat(path).exists().satisfies((fifo) -> assertThat(Files.isRegularFile(fifo)).isFalse());
	}

}

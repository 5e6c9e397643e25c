package com.example.gracefulsequence.shutdown;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for {@link ShutdownDeadline}.
 *
 * @author graceful-sequence contributors
 */
@ExtendWith(OutputCaptureExtension.class)
class ShutdownDeadlineTests {

	private final CountDownLatch halted = new CountDownLatch(1);

	private ShutdownDeadline deadline(Duration drainDelay, Duration deadline, Duration timeoutPerPhase) {
		return new ShutdownDeadline(new ShutdownProperties(drainDelay, deadline), timeoutPerPhase,
				this.halted::countDown);
	}

	@Test
	void aDeadlineThatDoesNotExceedDrainDelayPlusPhaseTimeoutIsRefusedNamingBoth() {
		assertThatExceptionOfType(InvalidConfigurationPropertyValueException.class)
			.isThrownBy(() -> deadline(Duration.ofSeconds(10), Duration.ofSeconds(40), Duration.ofSeconds(30)))
			.satisfies((ex) -> assertThat(ex.getName()).isEqualTo("shutdown.deadline"))
			.withMessageContaining("shutdown.drain-delay (PT10S)")
			.withMessageContaining("spring.lifecycle.timeout-per-shutdown-phase (PT30S)");
	}

	@Test
	void aShutdownPastTheDeadlineLogsTheStuckStepAndHalts(CapturedOutput output) throws InterruptedException {
		ShutdownDeadline deadline = deadline(Duration.ZERO, Duration.ofMillis(300), Duration.ofMillis(100));
		deadline.arm(() -> ShutdownStep.HTTP_DRAIN);
		assertThat(this.halted.await(10, TimeUnit.SECONDS)).isTrue();
		assertThat(output).contains("ERROR")
			.contains("Shutdown did not complete within the deadline of PT0.3S; it was stuck in step 4 (http-drain); "
					+ "halting with status 1");
	}

	@Test
	void aShutdownWithinTheDeadlineCannotHalt(CapturedOutput output) {
		ShutdownDeadline deadline = deadline(Duration.ZERO, Duration.ofSeconds(60), Duration.ofSeconds(30));
		deadline.arm(() -> ShutdownStep.READINESS);
		assertThat(deadline.isArmed()).isTrue();
		deadline.disarm();
		assertThat(deadline.isArmed()).isFalse();
		assertThat(this.halted.getCount()).isEqualTo(1);
		assertThat(output).doesNotContain("deadline");
	}

}

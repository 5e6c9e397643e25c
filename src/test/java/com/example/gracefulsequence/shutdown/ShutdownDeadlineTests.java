package com.example.gracefulsequence.shutdown;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import com.example.gracefulsequence.ManualScheduler;
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

	private final ManualScheduler scheduler = new ManualScheduler();

	private final AtomicInteger halts = new AtomicInteger();

	private ShutdownDeadline deadline(Duration drainDelay, Duration deadline, Duration timeoutPerPhase) {
		return new ShutdownDeadline(new ShutdownProperties(drainDelay, deadline), timeoutPerPhase, this.scheduler,
				this.halts::incrementAndGet);
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
	void aShutdownPastTheDeadlineLogsTheStuckStepAndHalts(CapturedOutput output) {
		ShutdownDeadline deadline = deadline(Duration.ZERO, Duration.ofMillis(300), Duration.ofMillis(100));
		ShutdownStep[] step = { ShutdownStep.READINESS };
		deadline.arm(() -> step[0]);
		step[0] = ShutdownStep.HTTP_DRAIN;
		this.scheduler.advance(Duration.ofMillis(300).minusNanos(1));
		assertThat(this.halts).hasValue(0);
		assertThat(output).doesNotContain("deadline");
		this.scheduler.advance(Duration.ofNanos(1));
		assertThat(this.halts).hasValue(1);
		// The step it is in when the time is up, not when the clock started
		assertThat(output).contains("ERROR")
			.contains("Shutdown did not complete within the deadline of PT0.3S; it was stuck in step 5 (http-drain); "
					+ "halting with status 1");
	}

	@Test
	void aShutdownWithinTheDeadlineCannotHalt(CapturedOutput output) {
		ShutdownDeadline deadline = deadline(Duration.ZERO, Duration.ofSeconds(60), Duration.ofSeconds(30));
		deadline.arm(() -> ShutdownStep.READINESS);
		assertThat(deadline.isArmed()).isTrue();
		assertThat(this.scheduler.scheduled()).containsExactly(Duration.ofSeconds(60));
		this.scheduler.advance(Duration.ofSeconds(59));
		deadline.disarm();
		assertThat(deadline.isArmed()).isFalse();
		this.scheduler.advance(Duration.ofHours(1));
		assertThat(this.halts).hasValue(0);
		assertThat(output).doesNotContain("deadline");
	}

	@Test
	void armingTwiceKeepsTheFirstDeadline() {
		ShutdownDeadline deadline = deadline(Duration.ZERO, Duration.ofSeconds(60), Duration.ofSeconds(30));
		deadline.arm(() -> ShutdownStep.READINESS);
		this.scheduler.advance(Duration.ofSeconds(30));
		deadline.arm(() -> ShutdownStep.STREAMS);
		assertThat(this.scheduler.scheduled()).containsExactly(Duration.ofSeconds(30));
		this.scheduler.advance(Duration.ofSeconds(30));
		assertThat(this.halts).hasValue(1);
	}

}

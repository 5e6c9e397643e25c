package com.example.gracefulsequence.shutdown;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for {@link ShutdownTimeline}.
 *
 * @author graceful-sequence contributors
 */
@ExtendWith(OutputCaptureExtension.class)
class ShutdownTimelineTests {

	private final SimpleMeterRegistry meterRegistry = new SimpleMeterRegistry();

	private final CountDownLatch halted = new CountDownLatch(1);

	private ShutdownTimeline timeline(Duration drainDelay, Duration deadline) {
		return new ShutdownTimeline(new ShutdownProperties(drainDelay, deadline), Duration.ofSeconds(30),
				this.meterRegistry, this.halted::countDown);
	}

	@Test
	void aDeadlineThatDoesNotExceedDrainDelayPlusPhaseTimeoutIsRefusedNamingBoth() {
		assertThatExceptionOfType(InvalidConfigurationPropertyValueException.class)
			.isThrownBy(() -> timeline(Duration.ofSeconds(10), Duration.ofSeconds(40)))
			.satisfies((ex) -> assertThat(ex.getName()).isEqualTo("shutdown.deadline"))
			.withMessageContaining("shutdown.drain-delay (PT10S)")
			.withMessageContaining("spring.lifecycle.timeout-per-shutdown-phase (PT30S)");
	}

	@Test
	void readinessRefusingTrafficStartsTheShutdown() {
		ShutdownTimeline timeline = timeline(Duration.ZERO, Duration.ofSeconds(60));
		timeline.onReadinessChange(new AvailabilityChangeEvent<>(this, ReadinessState.ACCEPTING_TRAFFIC));
		assertThat(timeline.isShuttingDown()).isFalse();
		timeline.onReadinessChange(new AvailabilityChangeEvent<>(this, ReadinessState.REFUSING_TRAFFIC));
		assertThat(timeline.isShuttingDown()).isTrue();
		assertThat(timeline.currentStep()).isEqualTo(ShutdownStep.READINESS);
		timeline.finish();
	}

	@Test
	void eachStepIsLoggedOnceInOrderWithItsDurationAndTimed(CapturedOutput output) {
		ShutdownTimeline timeline = timeline(Duration.ZERO, Duration.ofSeconds(60));
		for (ShutdownStep step : ShutdownStep.values()) {
			timeline.begin(step);
			timeline.begin(step);
		}
		timeline.begin(ShutdownStep.STREAMS);
		timeline.finish();
		timeline.finish();
		String log = output.toString();
		int previous = -1;
		for (ShutdownStep step : ShutdownStep.values()) {
			String line = "Shutdown step " + (step.ordinal() + 1) + " (" + step.tag() + ") completed in ";
			assertThat(log.indexOf(line)).isGreaterThan(previous);
			assertThat(log.indexOf(line)).isEqualTo(log.lastIndexOf(line));
			previous = log.indexOf(line);
			assertThat(this.meterRegistry.get("shutdown.phase").tag("phase", step.tag()).timer().count()).isEqualTo(1);
		}
		assertThat(log.indexOf("Graceful shutdown completed in ")).isGreaterThan(previous);
	}

	@Test
	void aFinishedTimelineDoesNotStartAgain() {
		ShutdownTimeline timeline = timeline(Duration.ZERO, Duration.ofSeconds(60));
		timeline.finish();
		timeline.begin(ShutdownStep.READINESS);
		assertThat(timeline.isShuttingDown()).isFalse();
	}

	@Test
	void aShutdownPastTheDeadlineLogsTheStuckStepAndHalts(CapturedOutput output) throws InterruptedException {
		ShutdownTimeline timeline = new ShutdownTimeline(new ShutdownProperties(Duration.ZERO, Duration.ofMillis(300)),
				Duration.ofMillis(100), this.meterRegistry, this.halted::countDown);
		timeline.begin(ShutdownStep.READINESS);
		timeline.begin(ShutdownStep.HTTP_DRAIN);
		assertThat(this.halted.await(10, TimeUnit.SECONDS)).isTrue();
		assertThat(output).contains("ERROR")
			.contains("Shutdown did not complete within the deadline of PT0.3S; it was stuck in step 4 (http-drain); "
					+ "halting with status 1");
	}

	@Test
	void aShutdownWithinTheDeadlineDoesNotHalt(CapturedOutput output) throws InterruptedException {
		ShutdownTimeline timeline = new ShutdownTimeline(new ShutdownProperties(Duration.ZERO, Duration.ofMillis(500)),
				Duration.ofMillis(100), this.meterRegistry, this.halted::countDown);
		timeline.begin(ShutdownStep.READINESS);
		timeline.finish();
		assertThat(this.halted.await(1, TimeUnit.SECONDS)).isFalse();
		assertThat(output).doesNotContain("deadline");
	}

}

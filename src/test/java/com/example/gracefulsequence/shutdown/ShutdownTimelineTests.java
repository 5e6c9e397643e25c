package com.example.gracefulsequence.shutdown;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import com.example.gracefulsequence.ManualScheduler;
import com.example.gracefulsequence.ShutdownLog;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link ShutdownTimeline}.
 *
 * @author graceful-sequence contributors
 */
@ExtendWith(OutputCaptureExtension.class)
class ShutdownTimelineTests {

	private final SimpleMeterRegistry meterRegistry = new SimpleMeterRegistry();

	private final ManualScheduler scheduler = new ManualScheduler();

	private final AtomicInteger halts = new AtomicInteger();

	private final ShutdownDeadline deadline = new ShutdownDeadline(
			new ShutdownProperties(Duration.ZERO, Duration.ofSeconds(60)), Duration.ofSeconds(30), this.scheduler,
			this.halts::incrementAndGet);

	private final ShutdownTimeline timeline = new ShutdownTimeline(this.meterRegistry, this.deadline,
			this.scheduler.ticker());

	private void advance(long millis) {
		this.scheduler.advance(Duration.ofMillis(millis));
	}

	@Test
	void readinessRefusingTrafficStartsTheShutdownAndTheDeadline() {
		this.timeline.onReadinessChange(new AvailabilityChangeEvent<>(this, ReadinessState.ACCEPTING_TRAFFIC));
		assertThat(this.timeline.currentStep()).isNull();
		assertThat(this.deadline.isArmed()).isFalse();
		this.timeline.onReadinessChange(new AvailabilityChangeEvent<>(this, ReadinessState.REFUSING_TRAFFIC));
		assertThat(this.timeline.currentStep()).isEqualTo(ShutdownStep.READINESS);
		assertThat(this.deadline.isArmed()).isTrue();
		this.timeline.onCompleted();
		assertThat(this.deadline.isArmed()).isFalse();
		assertThat(this.halts).hasValue(0);
	}

	@Test
	void eachStepIsLoggedOnceInOrderWithItsDurationAndTimed(CapturedOutput output) {
		for (ShutdownStep step : ShutdownStep.values()) {
			this.timeline.onStepStarted(new ShutdownStepStarted(step));
			this.timeline.onStepStarted(new ShutdownStepStarted(step));
			advance(step.number());
		}
		this.timeline.begin(ShutdownStep.STREAMS);
		this.timeline.onCompleted();
		this.timeline.onCompleted();
		List<String> messages = ShutdownLog.messages(output);
		assertThat(ShutdownLog.milestones(messages)).containsExactly(ShutdownLog.READINESS, ShutdownLog.HANDOVER,
				ShutdownLog.STREAMS, ShutdownLog.DRAIN_DELAY, ShutdownLog.HTTP_DRAIN, ShutdownLog.PRODUCER,
				ShutdownLog.STATE_FILE, ShutdownLog.COMPLETED);
		for (ShutdownStep step : ShutdownStep.values()) {
			assertThat(ShutdownLog.stepMillis(messages, step.number())).isEqualTo(step.number());
			assertThat(this.meterRegistry.get("shutdown.phase").tag("phase", step.tag()).timer().count()).isEqualTo(1);
		}
		assertThat(messages).contains("Graceful shutdown completed in 28 ms");
	}

	@Test
	void aFinishedTimelineDoesNotStartAgain() {
		this.timeline.finish();
		this.timeline.begin(ShutdownStep.READINESS);
		assertThat(this.timeline.currentStep()).isNull();
		assertThat(this.deadline.isArmed()).isFalse();
	}

}

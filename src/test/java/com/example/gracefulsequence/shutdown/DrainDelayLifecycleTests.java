package com.example.gracefulsequence.shutdown;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import com.example.gracefulsequence.ManualScheduler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link DrainDelayLifecycle}.
 *
 * @author graceful-sequence contributors
 */
@ExtendWith(OutputCaptureExtension.class)
class DrainDelayLifecycleTests {

	private final ManualScheduler timer = new ManualScheduler();

	private final AtomicInteger callbacks = new AtomicInteger();

	private DrainDelayLifecycle drainDelay(Duration delay) {
		return new DrainDelayLifecycle(new ShutdownProperties(delay, Duration.ofSeconds(60)), this.timer);
	}

	@Test
	void theStepCallsBackAfterTheDelayAndNotBefore(CapturedOutput output) {
		drainDelay(Duration.ofSeconds(5)).stop(this.callbacks::incrementAndGet);
		assertThat(output).contains("Serving for another 5000 ms before draining HTTP requests");
		this.timer.advance(Duration.ofSeconds(5).minusNanos(1));
		assertThat(this.callbacks).hasValue(0);
		this.timer.advance(Duration.ofNanos(1));
		assertThat(this.callbacks).hasValue(1);
		// Its thread ends once the callback has run
		assertThat(this.timer.isTerminated()).isTrue();
	}

	@Test
	void withoutADelayTheStepCallsBackAtOnce(CapturedOutput output) {
		drainDelay(Duration.ZERO).stop(this.callbacks::incrementAndGet);
		assertThat(this.callbacks).hasValue(1);
		assertThat(this.timer.scheduled()).isEmpty();
		assertThat(output).doesNotContain("Serving for another");
	}

}

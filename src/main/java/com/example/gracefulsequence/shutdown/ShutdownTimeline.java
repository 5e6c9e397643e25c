package com.example.gracefulsequence.shutdown;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * Keeps time over a shutdown: which {@link ShutdownStep step} it is in and how long each
 * took, logged and recorded as the {@code shutdown.phase} timer. A shutdown starts when
 * readiness goes to {@code REFUSING_TRAFFIC}, which Spring Boot publishes first thing
 * when the context closes; a step ends when the next one starts, and the last one when
 * the shutdown is complete. The {@link ShutdownDeadline} runs from the start to the end.
 * <p>
 * Elapsed time is told as everywhere in the application: a {@code LongSupplier ticker} in
 * nanoseconds, {@code System::nanoTime} in production (a {@code Clock} tells only "now",
 * from the wall). A JDK type rather than an interface of our own, so that the sequence
 * and the shutdown share it without knowing each other, and a test hands in the ticker of
 * its scheduler.
 *
 * @author graceful-sequence contributors
 */
@Component
final class ShutdownTimeline {

	private static final Logger logger = LoggerFactory.getLogger(ShutdownTimeline.class);

	private final Map<ShutdownStep, Timer> timers;

	private final ShutdownDeadline deadline;

	private final LongSupplier ticker;

	private @Nullable ShutdownStep step;

	private boolean finished;

	private long startNanos;

	private long stepStartNanos;

	@Autowired
	ShutdownTimeline(MeterRegistry meterRegistry, ShutdownDeadline deadline) {
		this(meterRegistry, deadline, System::nanoTime);
	}

	ShutdownTimeline(MeterRegistry meterRegistry, ShutdownDeadline deadline, LongSupplier ticker) {
		this.timers = timers(meterRegistry);
		this.deadline = deadline;
		this.ticker = ticker;
	}

	@EventListener
	void onReadinessChange(AvailabilityChangeEvent<ReadinessState> event) {
		if (event.getState() == ReadinessState.REFUSING_TRAFFIC) {
			begin(ShutdownStep.READINESS);
		}
	}

	@EventListener
	void onStepStarted(ShutdownStepStarted event) {
		begin(event.step());
	}

	@EventListener(ShutdownCompleted.class)
	void onCompleted() {
		finish();
	}

	/**
	 * Enter the given step, ending the current one. Steps are entered once each and in
	 * order; entering a step that is not after the current one does nothing.
	 * @param next the step to enter
	 */
	synchronized void begin(ShutdownStep next) {
		long now = this.ticker.getAsLong();
		if (this.step == null) {
			if (this.finished) {
				return;
			}
			this.startNanos = now;
			this.deadline.arm(this::currentStep);
		}
		else if (next.compareTo(this.step) <= 0) {
			return;
		}
		else {
			end(this.step, now);
		}
		this.step = next;
		this.stepStartNanos = now;
	}

	synchronized @Nullable ShutdownStep currentStep() {
		return this.step;
	}

	synchronized void finish() {
		if (this.finished) {
			return;
		}
		this.finished = true;
		this.deadline.disarm();
		if (this.step != null) {
			long now = this.ticker.getAsLong();
			end(this.step, now);
			logger.info("Graceful shutdown completed in {} ms", millis(now - this.startNanos));
		}
	}

	private void end(ShutdownStep ended, long now) {
		long nanos = now - this.stepStartNanos;
		this.timers.get(ended).record(nanos, TimeUnit.NANOSECONDS);
		logger.info("Shutdown step {} ({}) completed in {} ms", ended.number(), ended.tag(), millis(nanos));
	}

	// Registered up front: Spring Boot closes the meter registry as soon as the context
	// starts closing, before the first step, and a closed registry hands out no-op meters
	private static Map<ShutdownStep, Timer> timers(MeterRegistry meterRegistry) {
		Map<ShutdownStep, Timer> timers = new EnumMap<>(ShutdownStep.class);
		for (ShutdownStep step : ShutdownStep.values()) {
			timers.put(step,
					Timer.builder("shutdown.phase")
						.description("Duration of each step of the graceful shutdown")
						.tag("phase", step.tag())
						.register(meterRegistry));
		}
		return timers;
	}

	private static long millis(long nanos) {
		return TimeUnit.NANOSECONDS.toMillis(nanos);
	}

}

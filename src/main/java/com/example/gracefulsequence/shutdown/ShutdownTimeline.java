package com.example.gracefulsequence.shutdown;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.annotation.PreDestroy;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.context.LifecycleProperties;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.context.event.ContextRefreshedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * Keeps time over a shutdown: which {@link ShutdownStep step} it is in, how long each
 * took (logged and recorded as the {@code shutdown.phase} timer), and the overall
 * {@code shutdown.deadline}, past which it logs the step that was stuck and halts the
 * JVM.
 * <p>
 * A shutdown starts when readiness goes to {@code REFUSING_TRAFFIC}, which Spring Boot
 * publishes first thing when the context closes. Each later step is entered by the
 * component that performs it; a step ends when the next one is entered, and the last one
 * when this bean is destroyed, after every bean that uses it.
 *
 * @author graceful-sequence contributors
 */
@Component
public final class ShutdownTimeline {

	private static final Logger logger = LoggerFactory.getLogger(ShutdownTimeline.class);

	private static final int HALT_STATUS = 1;

	private final Duration deadline;

	private final Map<ShutdownStep, Timer> timers;

	private final Runnable halt;

	private final CountDownLatch finished = new CountDownLatch(1);

	private @Nullable ShutdownStep step;

	private long startNanos;

	private long stepStartNanos;

	@Autowired
	ShutdownTimeline(ShutdownProperties properties, LifecycleProperties lifecycle, MeterRegistry meterRegistry) {
		this(properties, lifecycle.getTimeoutPerShutdownPhase(), meterRegistry,
				() -> Runtime.getRuntime().halt(HALT_STATUS));
	}

	ShutdownTimeline(ShutdownProperties properties, Duration timeoutPerPhase, MeterRegistry meterRegistry,
			Runnable halt) {
		Duration minimum = properties.drainDelay().plus(timeoutPerPhase);
		if (properties.deadline().compareTo(minimum) <= 0) {
			throw new InvalidConfigurationPropertyValueException("shutdown.deadline", properties.deadline(),
					"It must be greater than shutdown.drain-delay (" + properties.drainDelay()
							+ ") plus spring.lifecycle.timeout-per-shutdown-phase (" + timeoutPerPhase + ").");
		}
		this.deadline = properties.deadline();
		this.timers = timers(meterRegistry);
		this.halt = halt;
	}

	/**
	 * Say goodbye once the context is closed and the JVM exits: Spring Boot runs its
	 * shutdown handlers after it has closed the contexts, this one before the logging
	 * system's, which was registered earlier. Registered only once the context has
	 * started, so that a failed startup does not say goodbye.
	 */
	@EventListener(ContextRefreshedEvent.class)
	void onStarted() {
		try {
			SpringApplication.getShutdownHandlers().add(ShutdownTimeline::sayGoodbye);
		}
		catch (IllegalStateException ex) {
			// A signal came during startup: the JVM is on its way out already
		}
	}

	@EventListener
	void onReadinessChange(AvailabilityChangeEvent<ReadinessState> event) {
		if (event.getState() == ReadinessState.REFUSING_TRAFFIC) {
			begin(ShutdownStep.READINESS);
		}
	}

	/**
	 * Enter the given step, ending the current one. Steps are entered once each and in
	 * order; entering a step that is not after the current one does nothing.
	 * @param next the step to enter
	 */
	public synchronized void begin(ShutdownStep next) {
		long now = System.nanoTime();
		if (this.step == null) {
			if (this.finished.getCount() == 0) {
				return;
			}
			this.startNanos = now;
			startDeadline();
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

	/**
	 * Whether a shutdown has started.
	 * @return {@code true} once readiness went to {@code REFUSING_TRAFFIC} on the way out
	 */
	public synchronized boolean isShuttingDown() {
		return this.step != null;
	}

	synchronized @Nullable ShutdownStep currentStep() {
		return this.step;
	}

	@PreDestroy
	synchronized void finish() {
		if (this.step == null || this.finished.getCount() == 0) {
			this.finished.countDown();
			return;
		}
		long now = System.nanoTime();
		end(this.step, now);
		this.finished.countDown();
		logger.info("Graceful shutdown completed in {} ms", millis(now - this.startNanos));
	}

	private void end(ShutdownStep ended, long now) {
		long nanos = now - this.stepStartNanos;
		this.timers.get(ended).record(nanos, TimeUnit.NANOSECONDS);
		logger.info("Shutdown step {} ({}) completed in {} ms", ended.number(), ended.tag(), millis(nanos));
	}

	// Registered up front: Spring Boot closes the meter registry as soon as the context
	// starts closing, before the first step, and a closed registry only hands out no-op
	// meters
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

	private void startDeadline() {
		Thread watchdog = new Thread(this::enforceDeadline, "shutdown-deadline");
		watchdog.setDaemon(true);
		watchdog.start();
	}

	private void enforceDeadline() {
		try {
			if (!this.finished.await(this.deadline.toNanos(), TimeUnit.NANOSECONDS)) {
				ShutdownStep stuck = currentStep();
				logger.error(
						"Shutdown did not complete within the deadline of {}; it was stuck in step {} ({}); "
								+ "halting with status {}",
						this.deadline, (stuck != null) ? stuck.number() : "?", (stuck != null) ? stuck.tag() : "?",
						HALT_STATUS);
				this.halt.run();
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	private static long millis(long nanos) {
		return TimeUnit.NANOSECONDS.toMillis(nanos);
	}

	private static void sayGoodbye() {
		logger.info("I'm leaving, bye!");
	}

}

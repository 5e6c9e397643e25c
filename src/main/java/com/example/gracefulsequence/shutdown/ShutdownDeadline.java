package com.example.gracefulsequence.shutdown;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.autoconfigure.context.LifecycleProperties;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.stereotype.Component;

/**
 * The hard cap on a whole shutdown, {@code shutdown.deadline}: past it, the step that was
 * stuck is logged and the JVM halts, since a shutdown that hangs would otherwise wait for
 * the platform's kill (the state file is current already). The watchdog is a scheduler it
 * is given, so that tests drive the deadline instead of waiting for it.
 *
 * @author graceful-sequence contributors
 */
@Component
final class ShutdownDeadline {

	private static final Logger logger = LoggerFactory.getLogger(ShutdownDeadline.class);

	private static final int HALT_STATUS = 1;

	private final Duration deadline;

	private final Runnable halt;

	private final ScheduledExecutorService watchdog;

	private boolean armed;

	@Autowired
	ShutdownDeadline(ShutdownProperties properties, LifecycleProperties lifecycle) {
		// Its own, not a bean: an Executor bean makes Spring Boot back off its
		// applicationTaskExecutor
		this(properties, lifecycle.getTimeoutPerShutdownPhase(), new ScheduledThreadPoolExecutor(1, (task) -> {
			// Never what keeps the JVM alive
			Thread thread = new Thread(task, "shutdown-deadline");
			thread.setDaemon(true);
			return thread;
		}), () -> Runtime.getRuntime().halt(HALT_STATUS));
	}

	/**
	 * Create the deadline, checking that it leaves room for the drain delay and the HTTP
	 * drain.
	 * @param properties the shutdown properties
	 * @param timeoutPerPhase {@code spring.lifecycle.timeout-per-shutdown-phase}
	 * @param watchdog runs the halt at the deadline; the deadline owns it and shuts it
	 * down when disarmed
	 * @param halt what ends the process
	 * @throws InvalidConfigurationPropertyValueException if the deadline is too short
	 */
	ShutdownDeadline(ShutdownProperties properties, Duration timeoutPerPhase, ScheduledExecutorService watchdog,
			Runnable halt) {
		Duration minimum = properties.drainDelay().plus(timeoutPerPhase);
		if (properties.deadline().compareTo(minimum) <= 0) {
			throw new InvalidConfigurationPropertyValueException("shutdown.deadline", properties.deadline(),
					"It must be greater than shutdown.drain-delay (" + properties.drainDelay()
							+ ") plus spring.lifecycle.timeout-per-shutdown-phase (" + timeoutPerPhase + ").");
		}
		this.deadline = properties.deadline();
		this.watchdog = watchdog;
		this.halt = halt;
	}

	/**
	 * Start the clock, once.
	 * @param currentStep the step the shutdown is in, to name if it gets stuck
	 */
	synchronized void arm(Supplier<@Nullable ShutdownStep> currentStep) {
		if (this.armed) {
			return;
		}
		this.watchdog.schedule(() -> expire(currentStep.get()), this.deadline.toNanos(), TimeUnit.NANOSECONDS);
		this.armed = true;
	}

	/**
	 * Stop the clock: the shutdown completed in time.
	 */
	synchronized void disarm() {
		if (this.armed) {
			this.watchdog.shutdownNow();
		}
	}

	/**
	 * Whether the clock runs.
	 * @return {@code true} once armed and until disarmed
	 */
	synchronized boolean isArmed() {
		return this.armed && !this.watchdog.isShutdown();
	}

	private void expire(@Nullable ShutdownStep stuck) {
		logger.error(
				"Shutdown did not complete within the deadline of {}; it was stuck in step {} ({}); "
						+ "halting with status {}",
				this.deadline, (stuck != null) ? stuck.number() : "?", (stuck != null) ? stuck.tag() : "?",
				HALT_STATUS);
		this.halt.run();
	}

}

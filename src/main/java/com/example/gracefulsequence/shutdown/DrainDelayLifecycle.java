package com.example.gracefulsequence.shutdown;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * Shutdown step 4: keeps the service serving for {@code shutdown.drain-delay} after
 * readiness went down, so that load balancers and Kubernetes endpoints stop sending
 * traffic before the port closes. The delay is told by a scheduler it is given, so that
 * tests drive it instead of waiting for it.
 *
 * @author graceful-sequence contributors
 */
@Component
final class DrainDelayLifecycle extends ShutdownStepLifecycle {

	private static final Logger logger = LoggerFactory.getLogger(DrainDelayLifecycle.class);

	private final Duration drainDelay;

	private final ScheduledExecutorService timer;

	@Autowired
	DrainDelayLifecycle(ShutdownProperties properties) {
		// Its own, not a bean: an Executor bean makes Spring Boot back off its
		// applicationTaskExecutor
		this(properties,
				Executors.newSingleThreadScheduledExecutor((task) -> new Thread(task, "shutdown-drain-delay")));
	}

	/**
	 * Create the step.
	 * @param properties the shutdown properties
	 * @param timer calls back after the delay; the step owns it and shuts it down once
	 * used
	 */
	DrainDelayLifecycle(ShutdownProperties properties, ScheduledExecutorService timer) {
		super(ShutdownStep.DRAIN_DELAY);
		this.drainDelay = properties.drainDelay();
		this.timer = timer;
	}

	@Override
	protected void onStop(Runnable callback) {
		if (this.drainDelay.isZero()) {
			callback.run();
			return;
		}
		logger.info("Serving for another {} ms before draining HTTP requests", this.drainDelay.toMillis());
		this.timer.schedule(callback, this.drainDelay.toNanos(), TimeUnit.NANOSECONDS);
		// The delayed callback still runs; the thread ends after it
		this.timer.shutdown();
	}

}

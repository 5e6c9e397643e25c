package com.example.gracefulsequence.shutdown;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.stereotype.Component;

/**
 * Shutdown step 3: keeps the service serving for {@code shutdown.drain-delay} after
 * readiness went down, so that load balancers and Kubernetes endpoints stop sending
 * traffic before the port closes.
 *
 * @author graceful-sequence contributors
 */
@Component
final class DrainDelayLifecycle extends ShutdownStepLifecycle {

	private static final Logger logger = LoggerFactory.getLogger(DrainDelayLifecycle.class);

	private final Duration drainDelay;

	DrainDelayLifecycle(ShutdownProperties properties) {
		super(ShutdownStep.DRAIN_DELAY);
		this.drainDelay = properties.drainDelay();
	}

	@Override
	protected void onStop(Runnable callback) {
		if (this.drainDelay.isZero()) {
			callback.run();
			return;
		}
		logger.info("Serving for another {} ms before draining HTTP requests", this.drainDelay.toMillis());
		ScheduledExecutorService timer = Executors
			.newSingleThreadScheduledExecutor((task) -> new Thread(task, "shutdown-drain-delay"));
		timer.schedule(callback, this.drainDelay.toNanos(), TimeUnit.NANOSECONDS);
		timer.shutdown();
	}

}

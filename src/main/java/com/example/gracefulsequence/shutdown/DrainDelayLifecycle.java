package com.example.gracefulsequence.shutdown;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.boot.web.server.context.WebServerApplicationContext;
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

	/**
	 * Stops after the streams are closed and before the web server drains, which stops in
	 * {@link WebServerApplicationContext#GRACEFUL_SHUTDOWN_PHASE}.
	 */
	static final int PHASE = WebServerApplicationContext.GRACEFUL_SHUTDOWN_PHASE + 1;

	private static final Logger logger = LoggerFactory.getLogger(DrainDelayLifecycle.class);

	private final Duration drainDelay;

	private final ShutdownTimeline timeline;

	DrainDelayLifecycle(ShutdownProperties properties, ShutdownTimeline timeline) {
		super(PHASE);
		this.drainDelay = properties.drainDelay();
		this.timeline = timeline;
	}

	@Override
	protected void perform(Runnable callback) {
		this.timeline.begin(ShutdownStep.DRAIN_DELAY);
		if (this.drainDelay.isZero()) {
			startDrain(callback);
			return;
		}
		logger.info("Serving for another {} ms before draining HTTP requests", this.drainDelay.toMillis());
		ScheduledExecutorService timer = Executors
			.newSingleThreadScheduledExecutor((task) -> new Thread(task, "shutdown-drain-delay"));
		timer.schedule(() -> startDrain(callback), this.drainDelay.toNanos(), TimeUnit.NANOSECONDS);
		timer.shutdown();
	}

	private void startDrain(Runnable callback) {
		this.timeline.begin(ShutdownStep.HTTP_DRAIN);
		callback.run();
	}

}

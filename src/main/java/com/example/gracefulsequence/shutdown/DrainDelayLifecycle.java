package com.example.gracefulsequence.shutdown;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.apache.catalina.connector.Connector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.boot.autoconfigure.context.LifecycleProperties;
import org.springframework.boot.tomcat.TomcatWebServer;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ApplicationContext;
import org.springframework.stereotype.Component;

/**
 * Shutdown step 3, and the start of step 4: keeps the service serving for
 * {@code shutdown.drain-delay} after readiness went down, so that load balancers and
 * Kubernetes endpoints stop sending traffic before the port closes; then closes the port
 * and waits for the requests in flight, handing over to Spring Boot's graceful shutdown
 * the moment the last one completes.
 * <p>
 * Spring Boot's graceful shutdown closes the port too, but then looks for active requests
 * every 50 ms, so it ends up to 50 ms after the last request; {@link DrainFilter} knows
 * the moment. Boot's wait is kept for what the filter cannot see (a request that Tomcat
 * answers before the filters run), with the short {@link #serverDrainTimeout tail} of the
 * drain timeout that {@link ShutdownConfiguration} gives its phase.
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

	private static final Duration MAX_SERVER_DRAIN_TIMEOUT = Duration.ofSeconds(1);

	// Time for the 503s to waiting requests to be written when the drain has run out
	private static final Duration ANSWER_TIMEOUT = Duration.ofMillis(500);

	private static final Logger logger = LoggerFactory.getLogger(DrainDelayLifecycle.class);

	private final Duration drainDelay;

	private final Duration drainTimeout;

	private final ShutdownTimeline timeline;

	private final DrainFilter drainFilter;

	private final ApplicationContext context;

	DrainDelayLifecycle(ShutdownProperties properties, LifecycleProperties lifecycle, ShutdownTimeline timeline,
			DrainFilter drainFilter, ApplicationContext context) {
		super(PHASE);
		this.drainDelay = properties.drainDelay();
		Duration timeout = lifecycle.getTimeoutPerShutdownPhase();
		this.drainTimeout = timeout.minus(serverDrainTimeout(timeout));
		this.timeline = timeline;
		this.drainFilter = drainFilter;
		this.context = context;
	}

	/**
	 * The part of the HTTP drain timeout left to Spring Boot's own wait: a tenth of it,
	 * at most one second; this step waits for the rest.
	 * @param timeoutPerPhase {@code spring.lifecycle.timeout-per-shutdown-phase}
	 * @return the timeout of the web server's graceful shutdown phase
	 */
	static Duration serverDrainTimeout(Duration timeoutPerPhase) {
		Duration tenth = timeoutPerPhase.dividedBy(10);
		return (tenth.compareTo(MAX_SERVER_DRAIN_TIMEOUT) < 0) ? tenth : MAX_SERVER_DRAIN_TIMEOUT;
	}

	@Override
	protected void perform(Runnable callback) {
		this.timeline.begin(ShutdownStep.DRAIN_DELAY);
		if (!this.drainDelay.isZero()) {
			logger.info("Serving for another {} ms before draining HTTP requests", this.drainDelay.toMillis());
		}
		ScheduledExecutorService timer = Executors
			.newSingleThreadScheduledExecutor((task) -> new Thread(task, "shutdown-http-drain"));
		timer.schedule(() -> drain(callback), this.drainDelay.toNanos(), TimeUnit.NANOSECONDS);
		timer.shutdown();
	}

	private void drain(Runnable callback) {
		this.timeline.begin(ShutdownStep.HTTP_DRAIN);
		try {
			closePort();
			if (!this.drainFilter.awaitIdle(this.drainTimeout)) {
				answerWhatIsLeft();
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		finally {
			callback.run();
		}
	}

	/**
	 * Out of time: have the requests that wait (long-polls) answered with a 503 rather
	 * than cut, and say how many were left.
	 * @throws InterruptedException if interrupted while the answers are written
	 */
	private void answerWhatIsLeft() throws InterruptedException {
		long inFlight = this.drainFilter.inFlight();
		this.context.publishEvent(new HttpDrainTimedOutEvent(this));
		this.drainFilter.awaitIdle(ANSWER_TIMEOUT);
		long cut = this.drainFilter.inFlight();
		logger.warn("HTTP drain timed out after {} ms with {} request(s) in flight; answered {} with 503, cut {}",
				this.drainTimeout.toMillis(), inFlight, Math.max(0, inFlight - cut), cut);
	}

	/**
	 * Stop accepting connections, as Spring Boot's graceful shutdown does first.
	 */
	private void closePort() {
		if (this.context instanceof WebServerApplicationContext web
				&& web.getWebServer() instanceof TomcatWebServer tomcat) {
			for (Connector connector : tomcat.getTomcat().getService().findConnectors()) {
				connector.pause();
				connector.getProtocolHandler().closeServerSocketGraceful();
			}
		}
	}

}

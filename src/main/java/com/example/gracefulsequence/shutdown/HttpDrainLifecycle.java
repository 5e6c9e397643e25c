package com.example.gracefulsequence.shutdown;

import java.time.Duration;

import org.apache.catalina.connector.Connector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.boot.autoconfigure.context.LifecycleProperties;
import org.springframework.boot.tomcat.TomcatWebServer;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ApplicationContext;
import org.springframework.stereotype.Component;

/**
 * Shutdown step 5: closes the port and waits for the requests in flight, ending the
 * moment the last one completes (see docs/shutdown.md for why not on Spring Boot's own
 * wait). When the time runs out, whatever holds requests open is told to answer them
 * ({@link HttpDrainTimedOutEvent}) and a WARN says how many were answered and cut.
 * <p>
 * The drain timeout, {@code spring.lifecycle.timeout-per-shutdown-phase}, is split: this
 * step waits for most of it and leaves a {@link #serverDrainTimeout short tail} to the
 * web server's graceful shutdown, which follows in the next phase and catches what
 * {@link DrainValve} cannot see (a request that Tomcat answers before the valves run, or
 * an error page that it renders after them).
 *
 * @author graceful-sequence contributors
 */
@Component
final class HttpDrainLifecycle extends ShutdownStepLifecycle {

	private static final Logger logger = LoggerFactory.getLogger(HttpDrainLifecycle.class);

	private static final Duration MAX_SERVER_DRAIN_TIMEOUT = Duration.ofSeconds(1);

	// Time for the 503s to waiting requests to be written when the drain has run out
	private static final Duration ANSWER_TIMEOUT = Duration.ofMillis(500);

	private final Duration drainTimeout;

	private final DrainValve drainValve;

	private final ApplicationContext context;

	HttpDrainLifecycle(LifecycleProperties lifecycle, DrainValve drainValve, ApplicationContext context) {
		super(ShutdownStep.HTTP_DRAIN);
		Duration timeout = lifecycle.getTimeoutPerShutdownPhase();
		this.drainTimeout = timeout.minus(serverDrainTimeout(timeout));
		this.drainValve = drainValve;
		this.context = context;
	}

	/**
	 * The part of the drain timeout left to the web server's own graceful shutdown: a
	 * tenth of it, at most one second.
	 * @param timeoutPerPhase {@code spring.lifecycle.timeout-per-shutdown-phase}
	 * @return the timeout of the web server's graceful shutdown phase
	 */
	static Duration serverDrainTimeout(Duration timeoutPerPhase) {
		Duration tenth = timeoutPerPhase.dividedBy(10);
		return (tenth.compareTo(MAX_SERVER_DRAIN_TIMEOUT) < 0) ? tenth : MAX_SERVER_DRAIN_TIMEOUT;
	}

	@Override
	protected void onStop(Runnable callback) {
		new Thread(() -> drain(callback), "shutdown-http-drain").start();
	}

	private void drain(Runnable callback) {
		try {
			closePort();
			if (!this.drainValve.awaitIdle(this.drainTimeout)) {
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

	// Stop accepting connections, as Spring Boot's graceful shutdown does first
	private void closePort() {
		if (this.context instanceof WebServerApplicationContext web
				&& web.getWebServer() instanceof TomcatWebServer tomcat) {
			for (Connector connector : tomcat.getTomcat().getService().findConnectors()) {
				connector.pause();
				connector.getProtocolHandler().closeServerSocketGraceful();
			}
		}
	}

	// Out of time: have waiting requests (long-polls) answered rather than cut
	private void answerWhatIsLeft() throws InterruptedException {
		long inFlight = this.drainValve.inFlight();
		this.context.publishEvent(new HttpDrainTimedOutEvent(this));
		this.drainValve.awaitIdle(ANSWER_TIMEOUT);
		long cut = this.drainValve.inFlight();
		logger.warn("HTTP drain timed out after {} ms with {} request(s) in flight; answered {} with 503, cut {}",
				this.drainTimeout.toMillis(), inFlight, Math.max(0, inFlight - cut), cut);
	}

}

package com.example.gracefulsequence.sequence;

import com.example.gracefulsequence.shutdown.ShutdownStep;
import com.example.gracefulsequence.shutdown.ShutdownTimeline;

import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Shutdown step 2: tells every open stream that the service is going, completes it, and
 * refuses new streams.
 * <p>
 * A separate bean from the {@link SequenceHub} on purpose: Spring stops the beans that
 * depend on a lifecycle bean before the bean itself, so a hub that was a lifecycle bean
 * would drag the producer, which depends on it, into this early phase.
 *
 * @author graceful-sequence contributors
 */
@Component
final class StreamsShutdownLifecycle implements SmartLifecycle {

	private final SequenceHub hub;

	private final ShutdownTimeline timeline;

	private volatile boolean running;

	StreamsShutdownLifecycle(SequenceHub hub, ShutdownTimeline timeline) {
		this.hub = hub;
		this.timeline = timeline;
	}

	@Override
	public void start() {
		this.running = true;
	}

	@Override
	public void stop() {
		this.running = false;
		this.timeline.begin(ShutdownStep.STREAMS);
		this.hub.closeStreams();
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	/**
	 * Stops first of the shutdown steps, before the drain delay and well before the web
	 * server drains in {@link WebServerApplicationContext#GRACEFUL_SHUTDOWN_PHASE}: an
	 * open stream is an in-flight request that would otherwise hold the drain until its
	 * timeout.
	 */
	@Override
	public int getPhase() {
		return WebServerApplicationContext.GRACEFUL_SHUTDOWN_PHASE + 2;
	}

	@Override
	public boolean isPauseable() {
		return false;
	}

}

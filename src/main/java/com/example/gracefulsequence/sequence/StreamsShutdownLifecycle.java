package com.example.gracefulsequence.sequence;

import com.example.gracefulsequence.shutdown.ShutdownStep;
import com.example.gracefulsequence.shutdown.ShutdownStepLifecycle;
import com.example.gracefulsequence.shutdown.ShutdownTimeline;

import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.stereotype.Component;

/**
 * Shutdown step 2: tells every open stream that the service is going, completes it, and
 * refuses new streams.
 * <p>
 * It stops first of the shutdown steps, before the drain delay and well before the web
 * server drains in {@link WebServerApplicationContext#GRACEFUL_SHUTDOWN_PHASE}: an open
 * stream is an in-flight request that would otherwise hold the drain until its timeout.
 * <p>
 * A separate bean from the {@link SequenceHub} on purpose: Spring stops the beans that
 * depend on a lifecycle bean before the bean itself, so a hub that was a lifecycle bean
 * would drag the producer, which depends on it, into this early phase.
 *
 * @author graceful-sequence contributors
 */
@Component
final class StreamsShutdownLifecycle extends ShutdownStepLifecycle {

	private final SequenceHub hub;

	private final ShutdownTimeline timeline;

	StreamsShutdownLifecycle(SequenceHub hub, ShutdownTimeline timeline) {
		super(WebServerApplicationContext.GRACEFUL_SHUTDOWN_PHASE + 2);
		this.hub = hub;
		this.timeline = timeline;
	}

	@Override
	protected void perform(Runnable callback) {
		this.timeline.begin(ShutdownStep.STREAMS);
		this.hub.closeStreams();
		callback.run();
	}

}

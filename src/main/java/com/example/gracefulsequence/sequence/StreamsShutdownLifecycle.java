package com.example.gracefulsequence.sequence;

import com.example.gracefulsequence.shutdown.ShutdownStep;
import com.example.gracefulsequence.shutdown.ShutdownStepLifecycle;

import org.springframework.stereotype.Component;

/**
 * Shutdown step 3: tells every open stream that the service is going, completes it, and
 * refuses new streams.
 * <p>
 * A bean of its own rather than the hub: Spring stops the beans that depend on a
 * lifecycle bean before the bean itself, so a hub that was a lifecycle bean would drag
 * the producer, which depends on it, into this early phase.
 *
 * @author graceful-sequence contributors
 */
@Component
final class StreamsShutdownLifecycle extends ShutdownStepLifecycle {

	private final SequenceHub hub;

	StreamsShutdownLifecycle(SequenceHub hub) {
		super(ShutdownStep.STREAMS);
		this.hub = hub;
	}

	@Override
	protected void onStop(Runnable callback) {
		this.hub.closeStreams();
		callback.run();
	}

}

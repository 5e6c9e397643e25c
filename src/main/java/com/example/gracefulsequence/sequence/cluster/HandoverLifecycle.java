package com.example.gracefulsequence.sequence.cluster;

import com.example.gracefulsequence.sequence.SequenceProperties;
import com.example.gracefulsequence.shutdown.ShutdownStep;
import com.example.gracefulsequence.shutdown.ShutdownStepLifecycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.stereotype.Component;

/**
 * Shutdown step 2: in cluster mode the leader stops producing and releases its lease, so
 * that a follower produces the next value on time, while the instance keeps following the
 * sequence until step 6. In local mode, or when the instance does not lead, there is
 * nothing to hand over and it says so.
 *
 * @author graceful-sequence contributors
 */
@Component
final class HandoverLifecycle extends ShutdownStepLifecycle {

	private static final Logger logger = LoggerFactory.getLogger(HandoverLifecycle.class);

	private final SequenceProperties properties;

	HandoverLifecycle(SequenceProperties properties) {
		super(ShutdownStep.HANDOVER);
		this.properties = properties;
	}

	@Override
	protected void onStop(Runnable callback) {
		if (!this.properties.cluster().enabled()) {
			logger.info("Nothing to hand over: cluster mode is off");
		}
		else {
			// Cluster mode does not produce through Redis yet, so no instance leads
			logger.info("Nothing to hand over: this instance does not lead");
		}
		callback.run();
	}

}

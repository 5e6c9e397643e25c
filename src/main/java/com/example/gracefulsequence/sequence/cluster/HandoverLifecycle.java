package com.example.gracefulsequence.sequence.cluster;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import com.example.gracefulsequence.shutdown.ShutdownStep;
import com.example.gracefulsequence.shutdown.ShutdownStepLifecycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.stereotype.Component;

/**
 * Shutdown step 2: in cluster mode the leader stops producing and releases its lease, so
 * that a follower produces the next value on time, while the instance keeps following the
 * sequence until step 6. In local mode, or when the instance does not lead, there is
 * nothing to hand over and it says so. Bounded by the Redis calls it makes: the value
 * being appended, if any, and the release.
 *
 * @author graceful-sequence contributors
 */
@Component
final class HandoverLifecycle extends ShutdownStepLifecycle {

	private static final Logger logger = LoggerFactory.getLogger(HandoverLifecycle.class);

	private final ClusterSequence cluster;

	private final Duration bound;

	HandoverLifecycle(ClusterSequence cluster, ClusterSettings settings) {
		super(ShutdownStep.HANDOVER);
		this.cluster = cluster;
		this.bound = settings.timeout().multipliedBy(3);
	}

	@Override
	protected void onStop(Runnable callback) {
		this.cluster.handOver().orTimeout(this.bound.toMillis(), TimeUnit.MILLISECONDS).whenComplete((done, ex) -> {
			if (ex != null) {
				logger.warn("Skipped the handover: Redis did not answer within {} ms", this.bound.toMillis());
			}
			else {
				logger.info(done);
			}
			callback.run();
		});
	}

}

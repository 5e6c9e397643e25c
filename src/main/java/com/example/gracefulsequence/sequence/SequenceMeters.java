package com.example.gracefulsequence.sequence;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The meters that the sequence's two sources share: this instance's producer in local
 * mode, and the cluster it follows in cluster mode.
 *
 * @author graceful-sequence contributors
 */
public final class SequenceMeters {

	private SequenceMeters() {
	}

	/**
	 * The {@code sequence.values} counter: the values this instance produced (local mode)
	 * or received from the cluster (cluster mode), which clients could have.
	 * @param registry where it is registered
	 * @return the counter
	 */
	public static Counter values(MeterRegistry registry) {
		return Counter.builder("sequence.values")
			.description("Values this instance produced (local mode) or received from the cluster (cluster mode)")
			.register(registry);
	}

}

package com.example.gracefulsequence;

import io.micrometer.core.instrument.MeterRegistry;

/**
 * The service's meters as tests read them in the application's own registry.
 *
 * @author graceful-sequence contributors
 */
public final class Meters {

	private Meters() {
	}

	/**
	 * How many subscribers of a kind the service holds now: the gauge
	 * {@code sequence.subscribers}.
	 * @param registry the application's registry
	 * @param kind {@code stream} for open streams, {@code poll} for waiting long-polls
	 * @return the number of subscribers
	 */
	public static double subscribers(MeterRegistry registry, String kind) {
		return registry.get("sequence.subscribers").tag("kind", kind).gauge().value();
	}

}

package com.example.gracefulsequence.shutdown;

import java.time.Duration;

import io.micrometer.core.instrument.MeterRegistry;

/**
 * Makes {@link ShutdownTimeline}s for tests in other packages, with a halt that does not
 * stop the test JVM.
 *
 * @author graceful-sequence contributors
 */
public final class ShutdownTimelineFactory {

	private ShutdownTimelineFactory() {
	}

	/**
	 * A timeline with the default properties, a 30s per-phase timeout and no halt.
	 * @param meterRegistry the meter registry
	 * @return the timeline
	 */
	public static ShutdownTimeline timeline(MeterRegistry meterRegistry) {
		return new ShutdownTimeline(new ShutdownProperties(Duration.ZERO, Duration.ofSeconds(60)),
				Duration.ofSeconds(30), meterRegistry, () -> {
				});
	}

}

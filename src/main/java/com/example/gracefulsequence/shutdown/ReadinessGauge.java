package com.example.gracefulsequence.shutdown;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import org.springframework.boot.availability.ApplicationAvailability;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.stereotype.Component;

/**
 * Readiness as the gauge {@code sequence.ready}: 1 while the application accepts traffic,
 * 0 while it refuses it (still starting, or from step 1 of a shutdown on), read from
 * Spring Boot's {@link ApplicationAvailability} at each scrape, so that a scrape during
 * the drain delay sees the instance leave.
 *
 * @author graceful-sequence contributors
 */
@Component
final class ReadinessGauge {

	private final ApplicationAvailability availability;

	ReadinessGauge(ApplicationAvailability availability, MeterRegistry meterRegistry) {
		this.availability = availability;
		Gauge.builder("sequence.ready", this, ReadinessGauge::value)
			.description("1 while the instance accepts traffic, 0 while it refuses it (/readyz answers 503)")
			.strongReference(true)
			.register(meterRegistry);
	}

	double value() {
		return (this.availability.getReadinessState() == ReadinessState.ACCEPTING_TRAFFIC) ? 1 : 0;
	}

}

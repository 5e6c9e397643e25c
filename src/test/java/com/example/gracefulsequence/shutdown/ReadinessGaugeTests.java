package com.example.gracefulsequence.shutdown;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import org.springframework.boot.availability.ApplicationAvailabilityBean;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link ReadinessGauge}.
 *
 * @author graceful-sequence contributors
 */
class ReadinessGaugeTests {

	private final SimpleMeterRegistry meterRegistry = new SimpleMeterRegistry();

	private final ApplicationAvailabilityBean availability = new ApplicationAvailabilityBean();

	@Test
	void theGaugeIsOneWhileTheApplicationAcceptsTrafficAndZeroBeforeAndAfter() {
		new ReadinessGauge(this.availability, this.meterRegistry);
		assertThat(ready()).as("starting").isZero();
		readiness(ReadinessState.ACCEPTING_TRAFFIC);
		assertThat(ready()).isOne();
		readiness(ReadinessState.REFUSING_TRAFFIC);
		assertThat(ready()).as("from step 1 of a shutdown").isZero();
	}

	private void readiness(ReadinessState state) {
		this.availability.onApplicationEvent(new AvailabilityChangeEvent<>(this, state));
	}

	private double ready() {
		return this.meterRegistry.get("sequence.ready").gauge().value();
	}

}

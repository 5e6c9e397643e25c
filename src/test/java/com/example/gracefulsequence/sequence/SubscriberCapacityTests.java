package com.example.gracefulsequence.sequence;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests of {@link SubscriberCapacity}.
 *
 * @author graceful-sequence contributors
 */
class SubscriberCapacityTests {

	private static final long MIB = 1024 * 1024;

	@Test
	void unsetTheCapIsWhatTheMaximumHeapHoldsAtMostTenThousand() {
		assertThat(new SubscriberCapacity(null, 4096 * MIB).maxSubscribers()).isEqualTo(10_000);
		int small = new SubscriberCapacity(null, 128 * MIB).maxSubscribers();
		assertThat(small)
			.isEqualTo((128 * MIB - SubscriberCapacity.HEAP_RESERVED) / SubscriberCapacity.HEAP_PER_SUBSCRIBER)
			.isLessThan(10_000);
		assertThat(new SubscriberCapacity(null, 16 * MIB).maxSubscribers()).isZero();
	}

	@Test
	void theOldGenerationOfThisJvmIsMeasured() {
		assertThat(SubscriberCapacity.oldGenerationMax()).isPositive()
			.isLessThanOrEqualTo(Runtime.getRuntime().maxMemory());
	}

	@Test
	void aCapWithinWhatTheHeapHoldsIsTaken() {
		assertThat(new SubscriberCapacity(100, 128 * MIB).maxSubscribers()).isEqualTo(100);
		assertThat(new SubscriberCapacity(0, 16 * MIB).maxSubscribers()).isZero();
	}

	@Test
	void aCapPastWhatTheHeapHoldsIsRefusedNamingThePropertyAndWhatFits() {
		int fits = SubscriberCapacity.heapHolds(128 * MIB);
		assertThatExceptionOfType(InvalidConfigurationPropertyValueException.class)
			.isThrownBy(() -> new SubscriberCapacity(10_000, 128 * MIB))
			.satisfies((ex) -> assertThat(ex.getName()).isEqualTo("sequence.max-subscribers"))
			.withMessageContaining("An old generation of 128 MiB holds " + fits + " open streams")
			.withMessageContaining("-Xmx");
	}

	@Test
	void theCapInForceIsTheLimitGauge() {
		SimpleMeterRegistry meterRegistry = new SimpleMeterRegistry();
		new SubscriberCapacity(100, 128 * MIB).register(meterRegistry);
		assertThat(meterRegistry.get("sequence.subscribers.limit").gauge().value()).isEqualTo(100);
		SimpleMeterRegistry unset = new SimpleMeterRegistry();
		new SubscriberCapacity(null, 128 * MIB).register(unset);
		assertThat(unset.get("sequence.subscribers.limit").gauge().value())
			.isEqualTo(SubscriberCapacity.heapHolds(128 * MIB));
	}

}

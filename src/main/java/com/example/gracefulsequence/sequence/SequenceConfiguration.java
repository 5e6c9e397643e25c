package com.example.gracefulsequence.sequence;

import java.time.Clock;
import java.time.temporal.ChronoUnit;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

import com.example.gracefulsequence.state.StateFile;
import com.example.gracefulsequence.state.StateFileWriter;
import io.micrometer.core.instrument.MeterRegistry;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The sequence's time, randomness, state file and hub, which starts from the value in the
 * state file.
 *
 * @author graceful-sequence contributors
 */
@Configuration(proxyBeanMethods = false)
class SequenceConfiguration {

	@Bean
	Clock clock() {
		return Clock.systemUTC();
	}

	@Bean
	RandomGenerator sequenceRandom(SequenceProperties properties) {
		Long seed = properties.seed();
		return (seed != null) ? new SplittableRandom(seed) : new SplittableRandom();
	}

	@Bean
	StateFile stateFile(SequenceProperties properties, Clock clock) {
		return new StateFile(properties.stateFile(), clock);
	}

	@Bean
	StateFileWriter stateFileWriter(StateFile stateFile, Clock clock, MeterRegistry meterRegistry) {
		return new StateFileWriter(stateFile, clock, meterRegistry);
	}

	@Bean
	SequenceHub sequenceHub(SequenceProperties properties, SubscriberCapacity capacity, StateFile stateFile,
			MeterRegistry meterRegistry) {
		SequenceValue restored = stateFile.restore()
			.map((saved) -> SequenceValue.restored(saved.value(), saved.savedAt().truncatedTo(ChronoUnit.MILLIS)))
			.orElse(null);
		SubscriberPlaces places = new SubscriberPlaces(capacity.maxSubscribers(), properties.maxSubscribersPerClient());
		return new SequenceHub(places, properties.stream().replay(), properties.stream().heartbeat(), System::nanoTime,
				restored, meterRegistry);
	}

}

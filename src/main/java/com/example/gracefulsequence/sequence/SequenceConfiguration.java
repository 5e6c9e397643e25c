package com.example.gracefulsequence.sequence;

import java.time.Clock;
import java.time.temporal.ChronoUnit;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

import com.example.gracefulsequence.state.StateFile;
import com.example.gracefulsequence.state.StateFileWriter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The sequence's time, randomness, state file and hub, which starts from the value in the
 * state file, or from the history of the cluster it follows.
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
			ObjectProvider<SequenceOrigin> origin) {
		SequenceValue restored = stateFile.restore()
			.map((saved) -> SequenceValue.restored(saved.value(), saved.savedAt().truncatedTo(ChronoUnit.MILLIS)))
			.orElse(null);
		SubscriberPlaces places = new SubscriberPlaces(capacity.maxSubscribers(), properties.maxSubscribersPerClient());
		SequenceHub hub = new SequenceHub(places, properties.stream().replay(), properties.stream().heartbeat(),
				System::nanoTime, restored);
		origin.ifAvailable(hub::follow);
		return hub;
	}

	/**
	 * The gauges of the sequence: its latest value, and the open streams and waiting
	 * long-polls.
	 * @param hub the hub
	 * @return the binder of the gauges
	 */
	@Bean
	MeterBinder sequenceGauges(SequenceHub hub) {
		return (registry) -> {
			Gauge.builder("sequence.last", hub, SequenceConfiguration::lastValue)
				.description("The latest value of the sequence")
				.register(registry);
			Gauge.builder("sequence.subscribers", hub, SequenceHub::openStreams)
				.description("Open streams and waiting long-polls")
				.tag("kind", "stream")
				.register(registry);
			Gauge.builder("sequence.subscribers", hub, SequenceHub::waitingPolls)
				.description("Open streams and waiting long-polls")
				.tag("kind", "poll")
				.register(registry);
		};
	}

	private static double lastValue(SequenceHub hub) {
		SequenceValue latest = hub.latest();
		return (latest != null) ? latest.value() : Double.NaN;
	}

}

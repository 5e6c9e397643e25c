package com.example.gracefulsequence.sequence;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import java.util.random.RandomGenerator;

import com.example.gracefulsequence.ManualScheduler;
import com.example.gracefulsequence.state.StateFile;
import com.example.gracefulsequence.state.StateFileWriter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link RandomSequenceProducer}, on a {@link ManualScheduler}: each period is
 * passed by the test, not waited for.
 *
 * @author graceful-sequence contributors
 */
@ExtendWith(OutputCaptureExtension.class)
class RandomSequenceProducerTests {

	private static final Instant NOW = Instant.parse("2026-11-26T10:15:30.123456Z");

	private final SimpleMeterRegistry meterRegistry = new SimpleMeterRegistry();

	private final ManualScheduler scheduler = new ManualScheduler();

	@TempDir
	Path directory;

	private SequenceHub hub;

	private SequenceProperties properties(Duration period, @Nullable Long seed) {
		return new SequenceProperties(period, 120, seed, this.directory.resolve("last.txt"), 10, 0,
				new SequenceProperties.Stream(Duration.ofSeconds(3), 64, Duration.ofSeconds(15)),
				new SequenceProperties.Cors(List.of()), new SequenceProperties.FastPath(true),
				new SequenceProperties.Cluster(false, Duration.ofSeconds(5), 0));
	}

	private RandomSequenceProducer producer(SequenceProperties properties, RandomGenerator random, Clock clock) {
		StateFile stateFile = new StateFile(properties.stateFile(), Clock.systemUTC());
		this.hub = new SequenceConfiguration().sequenceHub(properties,
				new SubscriberCapacity(10, Runtime.getRuntime().maxMemory()), stateFile,
				new StaticListableBeanFactory().getBeanProvider(SequenceOrigin.class));
		return new RandomSequenceProducer(properties, random, clock, this.hub,
				new StateFileWriter(stateFile, Clock.systemUTC(), this.meterRegistry), this.meterRegistry,
				this.scheduler, this.scheduler.ticker());
	}

	private RandomSequenceProducer start(Duration period, RandomGenerator random) {
		RandomSequenceProducer producer = producer(properties(period, null), random, Clock.fixed(NOW, ZoneOffset.UTC));
		producer.start();
		return producer;
	}

	private RandomSequenceProducer start(Duration period, long seed) {
		return start(period, new SplittableRandom(seed));
	}

	private double values() {
		return this.meterRegistry.get("sequence.values").counter().count();
	}

	@Test
	void theSameSeedGivesTheSameSequenceOfBoundedValues() {
		start(Duration.ofMillis(5), 42);
		this.scheduler.advance(Duration.ofMillis(100));
		assertThat(values()).isEqualTo(20);
		SequenceValue latest = this.hub.latest();
		assertThat(latest).isNotNull();
		assertThat(latest.index()).isEqualTo(20);
		SplittableRandom replay = new SplittableRandom(42);
		int expected = -1;
		for (long i = 0; i < latest.index(); i++) {
			expected = replay.nextInt(120);
			assertThat(expected).isBetween(0, 119);
		}
		assertThat(latest.value()).isEqualTo(expected);
	}

	@Test
	void theFirstValueComesOnePeriodAfterStartWithIndexOneAndTheClocksTimeInMillis(CapturedOutput output) {
		start(Duration.ofMillis(300), 7);
		// As from a ticker: not at once
		this.scheduler.advance(Duration.ofMillis(300).minusNanos(1));
		assertThat(this.hub.latest()).isNull();
		this.scheduler.advance(Duration.ofNanos(1));
		SequenceValue value = this.hub.latest();
		assertThat(value).isNotNull();
		assertThat(value.index()).isEqualTo(1);
		assertThat(value.value()).isEqualTo(new SplittableRandom(7).nextInt(120));
		assertThat(value.emittedAt()).isEqualTo(Instant.parse("2026-11-26T10:15:30.123Z"));
		assertThat(value.source()).isEqualTo(SequenceValue.Source.LIVE);
		assertThat(output).contains("Received: " + value.value());
		assertThat(this.directory.resolve("last.txt")).hasContent("Last number from random sequence: " + value.value());
	}

	@Test
	void valuesComeAtAFixedRateWithoutACatchUpBurstAfterAStall() {
		Duration period = Duration.ofSeconds(1);
		List<Duration> emissions = List.of(Duration.ofMillis(400), Duration.ofMillis(3500), Duration.ZERO,
				Duration.ZERO);
		AtomicInteger emitted = new AtomicInteger();
		start(period, new ObservedRandom(new SplittableRandom(1),
				(value) -> this.scheduler.stall(emissions.get(emitted.getAndIncrement()))));
		this.scheduler.advance(period);
		// Fixed rate: the time an emission takes is not added to the period
		assertThat(emitted).hasValue(1);
		assertThat(this.scheduler.scheduled()).containsExactly(Duration.ofMillis(600));
		this.scheduler.advance(Duration.ofMillis(600));
		// A stall of three and a half periods: the next value at once, then one a period
		assertThat(emitted).hasValue(2);
		assertThat(this.scheduler.scheduled()).containsExactly(Duration.ZERO);
		this.scheduler.advance(Duration.ZERO);
		assertThat(emitted).hasValue(3);
		assertThat(this.scheduler.scheduled()).containsExactly(period);
	}

	@Test
	void aRestoredValueIsServedUntilTheFirstTickAndTheValuesAfterItAreEmittedLater() throws IOException {
		Path file = this.directory.resolve("last.txt");
		Files.writeString(file, "Last number from random sequence: 7\n");
		// Saved at the very instant of the fixed clock: the new values must still come
		// later, since the emission time is the event id
		Files.setLastModifiedTime(file, FileTime.from(NOW));
		start(Duration.ofMillis(200), 3);
		SequenceValue restored = this.hub.latest();
		Instant savedAt = NOW.truncatedTo(ChronoUnit.MILLIS);
		assertThat(restored).isEqualTo(SequenceValue.restored(7, savedAt));
		this.scheduler.advance(Duration.ofMillis(199));
		assertThat(this.hub.latest()).isEqualTo(restored);
		this.scheduler.advance(Duration.ofMillis(401));
		SequenceValue latest = this.hub.latest();
		assertThat(latest.index()).isEqualTo(3);
		assertThat(latest.emittedAt()).isEqualTo(savedAt.plusMillis(latest.index()));
	}

	@Test
	void stopCancelsTheNextValueAtOnceAndCallsBack(CapturedOutput output) {
		RandomSequenceProducer producer = start(Duration.ofHours(1), 1);
		assertThat(producer.isRunning()).isTrue();
		assertThat(this.scheduler.scheduled()).containsExactly(Duration.ofHours(1));
		AtomicInteger stopped = new AtomicInteger();
		producer.stop(stopped::incrementAndGet);
		// A period of an hour cancelled: only the callback is left, to run now
		assertThat(this.scheduler.scheduled()).containsExactly(Duration.ZERO);
		this.scheduler.advance(Duration.ZERO);
		assertThat(stopped).hasValue(1);
		assertThat(this.scheduler.scheduled()).isEmpty();
		assertThat(this.scheduler.isShutdown()).isTrue();
		assertThat(producer.isRunning()).isFalse();
		assertThat(output).contains("Closing sequence");
		this.scheduler.advance(Duration.ofHours(2));
		assertThat(this.hub.latest()).isNull();
		assertThat(stopped).hasValue(1);
	}

	@Test
	void aStopDuringAnEmissionCallsBackOnlyOnceTheValueIsOut() {
		AtomicInteger stopped = new AtomicInteger();
		List<String> seenAtCallback = new ArrayList<>();
		RandomSequenceProducer[] producer = new RandomSequenceProducer[1];
		producer[0] = start(Duration.ofSeconds(1), new ObservedRandom(new SplittableRandom(5), (value) -> {
			if (this.hub.latest() != null) {
				producer[0].stop(() -> {
					stopped.incrementAndGet();
					seenAtCallback.add(this.hub.latest().index() + " " + values());
				});
				// Stopped while this value is being emitted: no callback yet
				assertThat(stopped).hasValue(0);
			}
		}));
		this.scheduler.advance(Duration.ofSeconds(2));
		assertThat(stopped).hasValue(1);
		// The second value was published and counted before the callback
		assertThat(seenAtCallback).containsExactly("2 2.0");
		assertThat(this.scheduler.scheduled()).isEmpty();
		this.scheduler.advance(Duration.ofHours(1));
		assertThat(values()).isEqualTo(2);
	}

	@Test
	void stoppingAProducerThatNeverStartedCallsBackAtOnce() {
		RandomSequenceProducer producer = producer(properties(Duration.ofSeconds(1), null), new SplittableRandom(),
				Clock.systemUTC());
		AtomicInteger stopped = new AtomicInteger();
		producer.stop(stopped::incrementAndGet);
		assertThat(this.scheduler.scheduled()).containsExactly(Duration.ZERO);
		this.scheduler.advance(Duration.ZERO);
		assertThat(stopped).hasValue(1);
		assertThat(this.hub.latest()).isNull();
	}

	/**
	 * A random generator that tells each value it gives, while the producer emits it.
	 */
	private static final class ObservedRandom implements RandomGenerator {

		private final RandomGenerator delegate;

		private final IntConsumer observer;

		ObservedRandom(RandomGenerator delegate, IntConsumer observer) {
			this.delegate = delegate;
			this.observer = observer;
		}

		@Override
		public int nextInt(int bound) {
			int value = this.delegate.nextInt(bound);
			this.observer.accept(value);
			return value;
		}

		@Override
		public long nextLong() {
			return this.delegate.nextLong();
		}

	}

}

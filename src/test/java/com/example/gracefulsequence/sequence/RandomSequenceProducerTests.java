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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;

import com.example.gracefulsequence.state.StateFile;
import com.example.gracefulsequence.state.StateFileWriter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests for {@link RandomSequenceProducer}.
 *
 * @author graceful-sequence contributors
 */
@ExtendWith(OutputCaptureExtension.class)
class RandomSequenceProducerTests {

	private static final Instant NOW = Instant.parse("2026-11-26T10:15:30.123456Z");

	private final SimpleMeterRegistry meterRegistry = new SimpleMeterRegistry();

	private final List<RandomSequenceProducer> started = new ArrayList<>();

	@TempDir
	Path directory;

	private SequenceHub hub;

	@AfterEach
	void stopProducers() throws InterruptedException {
		for (RandomSequenceProducer producer : this.started) {
			CountDownLatch stopped = new CountDownLatch(1);
			producer.stop(stopped::countDown);
			stopped.await(10, TimeUnit.SECONDS);
		}
	}

	private SequenceProperties properties(Duration period, @Nullable Long seed) {
		return new SequenceProperties(period, 120, seed, this.directory.resolve("last.txt"), 10, 0,
				new SequenceProperties.Stream(Duration.ofSeconds(3), 64, Duration.ofSeconds(15)),
				new SequenceProperties.Cors(List.of()), new SequenceProperties.FastPath(true));
	}

	private RandomSequenceProducer producer(SequenceProperties properties, RandomGenerator random, Clock clock) {
		StateFile stateFile = new StateFile(properties.stateFile(), Clock.systemUTC());
		this.hub = new SequenceConfiguration().sequenceHub(properties,
				new SubscriberCapacity(10, Runtime.getRuntime().maxMemory()), stateFile);
		return new RandomSequenceProducer(properties, random, clock, this.hub,
				new StateFileWriter(stateFile, Clock.systemUTC(), this.meterRegistry), this.meterRegistry);
	}

	private RandomSequenceProducer start(Duration period, long seed) {
		RandomSequenceProducer producer = producer(properties(period, seed), new SplittableRandom(seed),
				Clock.fixed(NOW, ZoneOffset.UTC));
		producer.start();
		this.started.add(producer);
		return producer;
	}

	@Test
	void theSameSeedGivesTheSameSequenceOfBoundedValues() {
		start(Duration.ofMillis(5), 42);
		await().atMost(Duration.ofSeconds(10))
			.until(() -> this.meterRegistry.get("sequence.values").counter().count() >= 20);
		SequenceValue latest = this.hub.latest();
		assertThat(latest).isNotNull();
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
		long started = System.nanoTime();
		start(Duration.ofMillis(300), 7);
		await().atMost(Duration.ofSeconds(10)).until(() -> this.hub.latest() != null);
		// As from a ticker: not at once
		assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
		SequenceValue value = this.hub.latest();
		assertThat(value.index()).isEqualTo(1);
		assertThat(value.value()).isEqualTo(new SplittableRandom(7).nextInt(120));
		assertThat(value.emittedAt()).isEqualTo(Instant.parse("2026-11-26T10:15:30.123Z"));
		assertThat(value.source()).isEqualTo(SequenceValue.Source.LIVE);
		assertThat(output).contains("Received: " + value.value());
		await().atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(this.directory.resolve("last.txt"))
				.hasContent("Last number from random sequence: " + value.value()));
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
		await().atMost(Duration.ofSeconds(10)).until(() -> this.hub.latest().index() >= 3);
		SequenceValue latest = this.hub.latest();
		assertThat(latest.emittedAt()).isEqualTo(savedAt.plusMillis(latest.index()));
	}

	@Test
	void stopWakesTheThreadAtOnceAndCallsBackWhenItHasEnded(CapturedOutput output) throws InterruptedException {
		RandomSequenceProducer producer = start(Duration.ofHours(1), 1);
		assertThat(producer.isRunning()).isTrue();
		Thread thread = Thread.getAllStackTraces()
			.keySet()
			.stream()
			.filter((candidate) -> candidate.getName().equals("sequence-producer") && candidate.isAlive())
			.findFirst()
			.orElseThrow();
		CountDownLatch stopped = new CountDownLatch(1);
		boolean[] threadAliveAtCallback = new boolean[1];
		producer.stop(() -> {
			threadAliveAtCallback[0] = thread.isAlive() && thread != Thread.currentThread();
			stopped.countDown();
		});
		// A period of an hour: only an immediate wake-up makes this bound
		assertThat(stopped.await(5, TimeUnit.SECONDS)).isTrue();
		thread.join(TimeUnit.SECONDS.toMillis(5));
		assertThat(thread.isAlive()).isFalse();
		assertThat(threadAliveAtCallback[0]).isFalse();
		assertThat(producer.isRunning()).isFalse();
		assertThat(output).contains("Closing sequence");
		this.started.clear();
	}

	@Test
	void stoppingAProducerThatNeverStartedCallsBackAtOnce() throws InterruptedException {
		RandomSequenceProducer producer = producer(properties(Duration.ofSeconds(1), null), new SplittableRandom(),
				Clock.systemUTC());
		CountDownLatch stopped = new CountDownLatch(1);
		producer.stop(stopped::countDown);
		assertThat(stopped.await(1, TimeUnit.SECONDS)).isTrue();
		assertThat(this.hub.latest()).isNull();
	}

}

package com.example.gracefulsequence.sequence;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import com.example.gracefulsequence.shutdown.ShutdownTimeline;
import com.example.gracefulsequence.shutdown.ShutdownTimelineFactory;
import com.example.gracefulsequence.state.StateFile;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

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

	private StateFile stateFile;

	private SequenceHub hub;

	@AfterEach
	void stopProducers() throws InterruptedException {
		for (RandomSequenceProducer producer : this.started) {
			CountDownLatch stopped = new CountDownLatch(1);
			producer.stop(stopped::countDown);
			stopped.await(10, TimeUnit.SECONDS);
		}
	}

	private RandomSequenceProducer start(Duration period, long seed) {
		SequenceProperties properties = new SequenceProperties(period, 120, seed, this.directory.resolve("last.txt"),
				10);
		ShutdownTimeline timeline = ShutdownTimelineFactory.timeline(this.meterRegistry);
		this.stateFile = new StateFile(properties.stateFile(), Clock.systemUTC(), timeline, this.meterRegistry);
		this.hub = new SequenceHub(properties, this.stateFile, JsonMapper.builder().findAndAddModules().build(),
				this.meterRegistry);
		RandomSequenceProducer producer = new RandomSequenceProducer(properties, new SplittableRandom(seed),
				Clock.fixed(NOW, ZoneOffset.UTC), this.hub, this.stateFile, timeline, this.meterRegistry);
		producer.start();
		this.started.add(producer);
		return producer;
	}

	@Test
	void theSameSeedGivesTheSameSequenceOfBoundedValues() {
		start(Duration.ofMillis(5), 42);
		await().atMost(Duration.ofSeconds(10))
			.until(() -> this.meterRegistry.get("sequence.values").counter().count() >= 20);
		SequenceHub.Latest latest = this.hub.latest();
		assertThat(latest).isNotNull();
		SplittableRandom replay = new SplittableRandom(42);
		int expected = -1;
		for (long i = 0; i < latest.value().index(); i++) {
			expected = replay.nextInt(120);
			assertThat(expected).isBetween(0, 119);
		}
		assertThat(latest.value().value()).isEqualTo(expected);
	}

	@Test
	void theFirstValueComesAtOnceWithIndexOneAndTheClocksTimeInMillis(CapturedOutput output) {
		start(Duration.ofHours(1), 7);
		await().atMost(Duration.ofSeconds(10)).until(() -> this.hub.latest() != null);
		SequenceValue value = this.hub.latest().value();
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
	void stopWakesTheThreadAtOnceAndCallsBackWhenItHasEnded(CapturedOutput output) throws InterruptedException {
		RandomSequenceProducer producer = start(Duration.ofHours(1), 1);
		await().atMost(Duration.ofSeconds(10)).until(() -> this.hub.latest() != null);
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
		SequenceProperties properties = new SequenceProperties(Duration.ofSeconds(1), 120, null,
				this.directory.resolve("last.txt"), 10);
		ShutdownTimeline timeline = ShutdownTimelineFactory.timeline(this.meterRegistry);
		StateFile stateFile = new StateFile(properties.stateFile(), Clock.systemUTC(), timeline, this.meterRegistry);
		SequenceHub hub = new SequenceHub(properties, stateFile, JsonMapper.builder().build(), this.meterRegistry);
		RandomSequenceProducer producer = new RandomSequenceProducer(properties, new SplittableRandom(),
				Clock.systemUTC(), hub, stateFile, timeline, this.meterRegistry);
		CountDownLatch stopped = new CountDownLatch(1);
		producer.stop(stopped::countDown);
		assertThat(stopped.await(1, TimeUnit.SECONDS)).isTrue();
		assertThat(hub.latest()).isNull();
	}

}

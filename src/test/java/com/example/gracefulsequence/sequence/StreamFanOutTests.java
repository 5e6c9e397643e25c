package com.example.gracefulsequence.sequence;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests of {@link StreamFanOut}: streams spread over the lanes, each gets everything in
 * order on its own lane, heartbeats and the goodbye included.
 *
 * @author graceful-sequence contributors
 */
class StreamFanOutTests {

	private static final Instant START = Instant.parse("2026-12-02T10:00:00Z");

	private StreamFanOut fanOut = new StreamFanOut(2, Duration.ZERO, System::nanoTime);

	@AfterEach
	void close() {
		this.fanOut.close();
	}

	private static SequenceValue live(long index) {
		return new SequenceValue((int) index, index, START.plusMillis(index), SequenceValue.Source.LIVE);
	}

	private List<Recorder> open(int count) {
		List<Recorder> streams = new ArrayList<>();
		for (int i = 0; i < count; i++) {
			Recorder stream = new Recorder(this.fanOut);
			assertThat(this.fanOut.add(stream, () -> stream.events.add("start"))).isTrue();
			streams.add(stream);
		}
		await().atMost(Duration.ofSeconds(10)).until(() -> this.fanOut.size() == count);
		return streams;
	}

	@Test
	void streamsAreSpreadOverTheLanesAndEachGetsEveryValueInOrderOnItsOwnLane() {
		List<Recorder> streams = open(10);
		List<String> expected = new ArrayList<>(List.of("start"));
		for (long index = 1; index <= 200; index++) {
			this.fanOut.publish(live(index));
			expected.add("value " + index);
		}
		await().atMost(Duration.ofSeconds(10))
			.until(() -> streams.stream().allMatch((stream) -> stream.events.size() == expected.size()));
		assertThat(streams).allSatisfy((stream) -> {
			assertThat(stream.events).containsExactlyElementsOf(expected);
			assertThat(stream.threads).as("one lane a stream").hasSize(1);
		});
		Set<String> lanes = ConcurrentHashMap.newKeySet();
		streams.forEach((stream) -> lanes.addAll(stream.threads));
		assertThat(lanes).containsExactlyInAnyOrder("sequence-fan-out-1", "sequence-fan-out-2");
	}

	@Test
	void heartbeatsAndTheGoodbyeComeOnTheStreamsLaneAfterItsValues() {
		this.fanOut.close();
		this.fanOut = new StreamFanOut(2, Duration.ofMillis(20), System::nanoTime);
		List<Recorder> streams = open(4);
		this.fanOut.publish(live(1));
		await().atMost(Duration.ofSeconds(10))
			.until(() -> streams.stream().allMatch((stream) -> stream.events.contains("heartbeat")));
		this.fanOut.close();
		assertThat(streams).allSatisfy((stream) -> {
			assertThat(stream.events).startsWith("start").contains("value 1", "heartbeat").endsWith("close");
			assertThat(stream.threads).hasSize(1);
		});
		Recorder late = new Recorder(this.fanOut);
		assertThat(this.fanOut.add(late, () -> late.events.add("start"))).as("closed").isFalse();
	}

	@Test
	void aLaneThatIsBehindHandsEachStreamEveryValueThatWaitsAtOnceInOrder() {
		List<Recorder> streams = open(4);
		CountDownLatch release = blockEveryLane();
		for (long index = 1; index <= 5; index++) {
			this.fanOut.publish(live(index));
		}
		release.countDown();
		await().atMost(Duration.ofSeconds(10))
			.until(() -> streams.stream().allMatch((stream) -> stream.events.contains("value 5")));
		assertThat(streams).allSatisfy((stream) -> {
			assertThat(stream.handOvers).containsExactly(List.of(1L, 2L, 3L, 4L, 5L));
			assertThat(stream.events).containsExactly("start", "value 1", "value 2", "value 3", "value 4", "value 5");
		});
	}

	@Test
	void theGoodbyeOfALaneThatIsBehindComesAfterEveryValueItHad() throws InterruptedException {
		List<Recorder> streams = open(4);
		CountDownLatch release = blockEveryLane();
		for (long index = 1; index <= 3; index++) {
			this.fanOut.publish(live(index));
		}
		Thread closing = new Thread(this.fanOut::close, "closing");
		closing.start();
		// The goodbye is queued on every lane behind the values
		await().atMost(Duration.ofSeconds(10)).until(() -> closing.getState() == Thread.State.TIMED_WAITING);
		this.fanOut.publish(live(4));
		release.countDown();
		await().atMost(Duration.ofSeconds(10))
			.until(() -> streams.stream().allMatch((stream) -> stream.events.contains("close")));
		closing.join(Duration.ofSeconds(10).toMillis());
		assertThat(streams)
			.allSatisfy((stream) -> assertThat(stream.events).startsWith("start", "value 1", "value 2", "value 3")
				.endsWith("close")
				.doesNotHaveDuplicates());
	}

	@Test
	void valuesPublishedFasterThanTheLanesWriteReachEveryStreamInOrderOnce() {
		List<Recorder> streams = open(10);
		int count = 5_000;
		for (long index = 1; index <= count; index++) {
			this.fanOut.publish(live(index));
		}
		await().atMost(Duration.ofSeconds(20))
			.until(() -> streams.stream().allMatch((stream) -> stream.events.size() == count + 1));
		List<String> expected = new ArrayList<>(List.of("start"));
		for (long index = 1; index <= count; index++) {
			expected.add("value " + index);
		}
		assertThat(streams).allSatisfy((stream) -> assertThat(stream.events).containsExactlyElementsOf(expected));
	}

	/**
	 * Hold every lane on a task of its own until the latch is released.
	 * @return the latch
	 */
	private CountDownLatch blockEveryLane() {
		CountDownLatch release = new CountDownLatch(1);
		CountDownLatch blocked = new CountDownLatch(2);
		for (int i = 0; i < 2; i++) {
			Recorder blocker = new Recorder(this.fanOut);
			this.fanOut.add(blocker, () -> {
				blocked.countDown();
				try {
					release.await();
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
				}
			});
		}
		await().atMost(Duration.ofSeconds(10)).until(() -> blocked.getCount() == 0);
		return release;
	}

	@Test
	void theCloseEndsAsSoonAsEveryStreamHasTakenTheGoodbye() {
		this.fanOut.close();
		this.fanOut = new StreamFanOut(2, Duration.ZERO, System::nanoTime, Duration.ofHours(1));
		List<Recorder> streams = open(4);
		// Would wait an hour for a stream that did not end
		this.fanOut.close();
		assertThat(this.fanOut.size()).isZero();
		assertThat(streams).allSatisfy((stream) -> assertThat(stream.events).contains("close").doesNotContain("abort"));
	}

	@Test
	void aStreamThatHasNotTakenTheGoodbyeWhenTheTimeIsUpIsCut() {
		this.fanOut.close();
		this.fanOut = new StreamFanOut(2, Duration.ZERO, System::nanoTime, Duration.ZERO);
		Recorder stubborn = new Recorder(null);
		assertThat(this.fanOut.add(stubborn, () -> {
		})).isTrue();
		await().atMost(Duration.ofSeconds(10)).until(() -> this.fanOut.size() == 1);
		this.fanOut.close();
		assertThat(stubborn.events).contains("abort");
	}

	@Test
	void aRemovedStreamGetsNothingMore() {
		List<Recorder> streams = open(2);
		Recorder removed = streams.get(0);
		assertThat(this.fanOut.remove(removed)).isTrue();
		assertThat(this.fanOut.remove(removed)).isFalse();
		this.fanOut.publish(live(1));
		await().atMost(Duration.ofSeconds(10)).until(() -> streams.get(1).events.contains("value 1"));
		assertThat(removed.events).containsExactly("start");
		assertThat(this.fanOut.size()).isOne();
	}

	/**
	 * A stream that records what it gets and on which thread.
	 */
	private static final class Recorder implements Subscriber {

		// Where it ends once it has taken the goodbye; null for a stream that never does
		private final @Nullable StreamFanOut endsIn;

		Recorder(@Nullable StreamFanOut endsIn) {
			this.endsIn = endsIn;
		}

		@Override
		public String client() {
			return "127.0.0.1";
		}

		private final Queue<String> events = new ConcurrentLinkedQueue<>();

		private final Set<String> threads = ConcurrentHashMap.newKeySet();

		// The indexes of the values, as they were handed over together
		private final Queue<List<Long>> handOvers = new ConcurrentLinkedQueue<>();

		@Override
		public void onValue(SequenceValue value) {
			this.handOvers.add(List.of(value.index()));
			record("value " + value.index());
		}

		@Override
		public void onValues(List<SequenceValue> values) {
			this.handOvers.add(values.stream().map(SequenceValue::index).toList());
			values.forEach((value) -> record("value " + value.index()));
		}

		@Override
		public void onHeartbeat(long quietSince) {
			if (!this.events.contains("heartbeat")) {
				record("heartbeat");
			}
		}

		@Override
		public void onClose() {
			record("close");
			// Ends as a stream that wrote its goodbye
			if (this.endsIn != null) {
				this.endsIn.remove(this);
			}
		}

		@Override
		public void abort() {
			record("abort");
		}

		private void record(String event) {
			this.threads.add(Thread.currentThread().getName());
			this.events.add(event);
		}

	}

}

package com.example.gracefulsequence.sequence;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

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
			Recorder stream = new Recorder();
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
		Recorder late = new Recorder();
		assertThat(this.fanOut.add(late, () -> late.events.add("start"))).as("closed").isFalse();
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

		@Override
		public String client() {
			return "127.0.0.1";
		}

		private final Queue<String> events = new ConcurrentLinkedQueue<>();

		private final Set<String> threads = ConcurrentHashMap.newKeySet();

		@Override
		public void onValue(SequenceValue value) {
			record("value " + value.index());
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
		}

		private void record(String event) {
			this.threads.add(Thread.currentThread().getName());
			this.events.add(event);
		}

	}

}

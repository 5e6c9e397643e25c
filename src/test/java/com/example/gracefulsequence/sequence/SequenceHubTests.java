package com.example.gracefulsequence.sequence;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests of {@link SequenceHub} on its own: where a resuming stream starts, by event id,
 * the heartbeat of quiet streams, and what a listener hears.
 *
 * @author graceful-sequence contributors
 */
class SequenceHubTests {

	private static final Instant START = Instant.parse("2026-12-02T10:00:00Z");

	private final AtomicLong ticker = new AtomicLong(1_000_000_000L);

	private @Nullable SequenceHub hub;

	@AfterEach
	void closeHub() {
		if (this.hub != null) {
			this.hub.closeStreams();
		}
	}

	private SequenceHub hub(int replay, Duration heartbeat, @Nullable SequenceValue restored) {
		this.hub = new SequenceHub(new SubscriberPlaces(10, 0), replay, heartbeat, this.ticker::get, restored);
		return this.hub;
	}

	private static SequenceValue live(long index) {
		return new SequenceValue((int) index, index, START.plusSeconds(index), SequenceValue.Source.LIVE);
	}

	private static long id(long index) {
		return START.plusSeconds(index).toEpochMilli();
	}

	private SequenceHub holding(long... indexes) {
		SequenceHub hub = hub(64, Duration.ZERO, null);
		for (long index : indexes) {
			hub.publish(live(index));
		}
		return hub;
	}

	@Test
	void aStreamWithoutAnIdStartsWithTheCurrentValue() {
		assertThat(holding(1, 2, 3).startingFrom(-1)).containsExactly(live(3));
	}

	@Test
	void aStreamWithAnIdStartsWithEveryHeldValueWhoseIdIsGreaterInOrder() {
		assertThat(holding(1, 2, 3, 4).startingFrom(id(2))).containsExactly(live(3), live(4));
		// Not an id the hub holds, such as one produced while the previous instance
		// drained
		assertThat(holding(1, 3, 4).startingFrom(id(2))).containsExactly(live(3), live(4));
	}

	@Test
	void aStreamWithAnIdOlderThanEverythingHeldStartsWithEveryHeldValue() {
		assertThat(holding(5, 6, 7).startingFrom(id(1))).containsExactly(live(5), live(6), live(7));
	}

	@Test
	void aStreamWithTheLatestIdStartsWithNothing() {
		assertThat(holding(1, 2, 3).startingFrom(id(3))).isEmpty();
	}

	@Test
	void aStreamWithAnIdGreaterThanEveryHeldOneStartsWithTheCurrentValue() {
		assertThat(holding(1, 2, 3).startingFrom(id(9))).containsExactly(live(3));
	}

	@Test
	void withoutReplayTheLatestValueIsStillHeld() {
		SequenceHub hub = hub(0, Duration.ZERO, null);
		hub.publish(live(1));
		hub.publish(live(2));
		assertThat(hub.startingFrom(id(1))).containsExactly(live(2));
		assertThat(hub.startingFrom(id(2))).isEmpty();
	}

	@Test
	void afterARestartAStreamGetsTheRestoredValueAndEveryValueSince() {
		// The restored value keeps the id of the last value of the previous instance,
		// which
		// may be later than the last one the client had (values made during a drain
		// delay)
		SequenceValue restored = SequenceValue.restored(7, START.plusSeconds(5));
		SequenceHub hub = hub(64, Duration.ZERO, restored);
		hub.publish(live(6));
		hub.publish(live(7));
		assertThat(hub.startingFrom(id(3))).containsExactly(restored, live(6), live(7));
	}

	@Test
	void everyStreamGetsAHeartbeatAskingWhetherItHasBeenQuietForTheHeartbeat() {
		Duration heartbeat = Duration.ofMillis(40);
		SequenceHub hub = hub(64, heartbeat, null);
		Queue<Long> heartbeats = new ConcurrentLinkedQueue<>();
		assertThat(hub.admitStream("127.0.0.1")).isEqualTo(Admission.TAKEN);
		hub.subscribe(new Subscriber() {

			@Override
			public String client() {
				return "127.0.0.1";
			}

			@Override
			public void onValue(SequenceValue value) {
			}

			@Override
			public void onHeartbeat(long quietSince) {
				heartbeats.add(quietSince);
			}

			@Override
			public void onClose() {
			}

		}, -1);
		await().atMost(Duration.ofSeconds(10)).until(() -> heartbeats.size() >= 2);
		assertThat(List.copyOf(heartbeats))
			.allSatisfy((quietSince) -> assertThat(quietSince).isEqualTo(this.ticker.get() - heartbeat.toNanos()));
	}

	@Test
	void aListenerGetsEveryValueOnceAndInOrderEvenWhenAValueIsPublishedWhileItSubscribes() throws Exception {
		SequenceHub hub = holding(1);
		List<SequenceValue> heard = new CopyOnWriteArrayList<>();
		CountDownLatch hearingTheFirst = new CountDownLatch(1);
		CountDownLatch release = new CountDownLatch(1);
		Thread subscriber = new Thread(() -> hub.onPublish((value) -> {
			if (value.index() == 1) {
				// Slow to take the current value, as it is handed over on subscribing
				hearingTheFirst.countDown();
				awaitUninterruptibly(release);
			}
			heard.add(value);
		}), "test-subscriber");
		subscriber.start();
		assertThat(hearingTheFirst.await(10, TimeUnit.SECONDS)).isTrue();
		Thread producer = new Thread(() -> hub.publish(live(2)), "test-producer");
		producer.start();
		// The publication either waits for the subscription or, unguarded, gets past it
		await().atMost(Duration.ofSeconds(10))
			.until(() -> producer.getState() == Thread.State.BLOCKED || !producer.isAlive());
		release.countDown();
		subscriber.join(10_000);
		producer.join(10_000);
		assertThat(heard).containsExactly(live(1), live(2));
	}

	@Test
	void aHubThatFollowsAnOriginStartsFromItsHistoryInsteadOfTheRestoredValue() {
		SequenceHub hub = hub(64, Duration.ZERO, SequenceValue.restored(7, START.plusSeconds(100)));
		hub.follow(origin(List.of(live(1), live(2)), false));
		assertThat(hub.latest()).isEqualTo(live(2));
		assertThat(hub.startingFrom(-1)).containsExactly(live(2));
		assertThat(hub.startingFrom(id(0))).containsExactly(live(1), live(2));
	}

	@Test
	void aStreamResumingFromAnIdTheOriginHoldsAndThisInstanceHasNotSeenGetsOnlyTheValuesAfterIt() {
		SequenceHub hub = holding(1, 2);
		hub.follow(origin(null, true));
		RecordingStream stream = new RecordingStream();
		hub.subscribe(stream, id(3));
		await().atMost(Duration.ofSeconds(10)).until(() -> stream.skippedThrough.get() == id(3));
		// Never the current value, older than what the client had
		assertThat(stream.received).isEmpty();
		hub.publish(live(3));
		hub.publish(live(4));
		await().atMost(Duration.ofSeconds(10)).until(() -> stream.received.contains(live(4)));
		assertThat(stream.received).containsExactly(live(4));
	}

	@Test
	void aStreamResumingFromAnIdTheOriginDoesNotHoldStartsWithTheCurrentValue() {
		SequenceHub hub = holding(1, 2);
		hub.follow(origin(null, false));
		RecordingStream stream = new RecordingStream();
		hub.subscribe(stream, id(9));
		await().atMost(Duration.ofSeconds(10)).until(() -> !stream.received.isEmpty());
		assertThat(stream.received).containsExactly(live(2));
		assertThat(stream.skippedThrough).hasValue(-1);
	}

	private static SequenceOrigin origin(@Nullable List<SequenceValue> history, boolean holds) {
		return new SequenceOrigin() {

			@Override
			public @Nullable List<SequenceValue> history() {
				return history;
			}

			@Override
			public void holds(long eventId, Consumer<Boolean> answer) {
				answer.accept(holds);
			}

		};
	}

	private static void awaitUninterruptibly(CountDownLatch latch) {
		try {
			latch.await(10, TimeUnit.SECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	/**
	 * A stream that keeps what it is sent, and drops what it skipped through, as the web
	 * edge's streams do.
	 */
	private static final class RecordingStream implements Subscriber {

		private final List<SequenceValue> received = new CopyOnWriteArrayList<>();

		private final AtomicLong skippedThrough = new AtomicLong(-1);

		@Override
		public String client() {
			return "127.0.0.1";
		}

		@Override
		public void onValue(SequenceValue value) {
			if (value.eventId() > this.skippedThrough.get()) {
				this.received.add(value);
			}
		}

		@Override
		public void skipThrough(long eventId) {
			this.skippedThrough.set(eventId);
		}

		@Override
		public void onClose() {
		}

	}

}

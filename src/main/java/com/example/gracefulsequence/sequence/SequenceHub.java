package com.example.gracefulsequence.sequence;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds the latest value and hands each new one to its {@link Subscriber subscribers}:
 * waiting long-polls at once, open streams from a single fan-out thread, so that the
 * producer never waits on a client. The same thread sends a heartbeat to streams that
 * have been quiet, so that it never overtakes a value. It keeps the latest values for
 * streams that resume from an event id, takes at most {@code sequence.max-subscribers},
 * and takes no new stream once it is closed.
 *
 * @author graceful-sequence contributors
 */
final class SequenceHub {

	private static final Logger logger = LoggerFactory.getLogger(SequenceHub.class);

	private static final Duration GOODBYE_TIMEOUT = Duration.ofSeconds(1);

	private final int maxSubscribers;

	private final int replay;

	private final Deque<SequenceValue> history = new ArrayDeque<>();

	private final Set<Subscriber> polls = ConcurrentHashMap.newKeySet();

	private final Set<Subscriber> streams = ConcurrentHashMap.newKeySet();

	private final AtomicInteger subscribers = new AtomicInteger();

	private final ScheduledExecutorService fanOut = Executors
		.newSingleThreadScheduledExecutor((task) -> new Thread(task, "sequence-fan-out"));

	private final long heartbeatNanos;

	private final LongSupplier ticker;

	private volatile @Nullable SequenceValue latest;

	private volatile boolean closed;

	/**
	 * Create a hub.
	 * @param maxSubscribers how many long-polls and streams it takes at once
	 * @param replay how many of the latest values it keeps for resuming streams
	 * @param heartbeat how long a stream may be quiet before it gets a heartbeat; zero
	 * for none
	 * @param ticker elapsed time in nanoseconds, as {@link System#nanoTime()}
	 * @param restored the value restored from the state file, if any
	 * @param meterRegistry where to register the gauges of the sequence
	 */
	SequenceHub(int maxSubscribers, int replay, Duration heartbeat, LongSupplier ticker,
			@Nullable SequenceValue restored, MeterRegistry meterRegistry) {
		this.maxSubscribers = maxSubscribers;
		this.replay = replay;
		this.heartbeatNanos = heartbeat.toNanos();
		this.ticker = ticker;
		if (this.heartbeatNanos > 0) {
			// A quarter of the heartbeat apart, so that a stream is quiet for at most
			// 1.25
			// heartbeats, with one timer for every stream
			long tick = Math.max(1, this.heartbeatNanos / 4);
			this.fanOut.scheduleAtFixedRate(this::heartbeat, tick, tick, TimeUnit.NANOSECONDS);
		}
		if (restored != null) {
			remember(restored);
		}
		Gauge.builder("sequence.last", this, SequenceHub::lastValue)
			.description("The latest value of the sequence")
			.register(meterRegistry);
		subscribersGauge(meterRegistry, "stream", this.streams);
		subscribersGauge(meterRegistry, "poll", this.polls);
	}

	private static void subscribersGauge(MeterRegistry meterRegistry, String kind, Set<Subscriber> subscribers) {
		Gauge.builder("sequence.subscribers", subscribers, Set::size)
			.description("Open streams and waiting long-polls")
			.tag("kind", kind)
			.register(meterRegistry);
	}

	private double lastValue() {
		SequenceValue current = this.latest;
		return (current != null) ? current.value() : Double.NaN;
	}

	/**
	 * The latest value, produced or restored.
	 * @return the value, or {@code null} if there is none yet
	 */
	@Nullable SequenceValue latest() {
		return this.latest;
	}

	/**
	 * Make a value the latest and hand it to every subscriber.
	 * @param value the new value
	 */
	void publish(SequenceValue value) {
		remember(value);
		for (Subscriber poll : this.polls) {
			if (unsubscribe(poll)) {
				poll.onValue(value);
			}
		}
		if (!this.streams.isEmpty()) {
			onFanOutThread(() -> this.streams.forEach((stream) -> stream.onValue(value)));
		}
	}

	private void remember(SequenceValue value) {
		synchronized (this.history) {
			this.latest = value;
			if (this.replay > 0) {
				if (this.history.size() == this.replay) {
					this.history.removeFirst();
				}
				this.history.addLast(value);
			}
		}
	}

	/**
	 * The values a stream starts with, by event id: every value held (the replay history
	 * and the latest) whose id is greater than the one the client had, oldest first, or
	 * none if it had the latest; the current value if it had no id, or one greater than
	 * the latest (another instance's, or from a clock that went back).
	 * @param lastEventId the id of the last event the client had, or -1 for none
	 * @return the values, oldest first
	 */
	List<SequenceValue> startingFrom(long lastEventId) {
		synchronized (this.history) {
			SequenceValue current = this.latest;
			if (current == null) {
				return List.of();
			}
			if (lastEventId < 0 || lastEventId > current.eventId()) {
				return List.of(current);
			}
			List<SequenceValue> after = new ArrayList<>();
			for (SequenceValue value : this.history) {
				if (value.eventId() > lastEventId) {
					after.add(value);
				}
			}
			if (after.isEmpty() && current.eventId() > lastEventId) {
				// Nothing is kept for replay; the latest is held all the same
				after.add(current);
			}
			return after;
		}
	}

	/**
	 * Give every stream that has been quiet for the heartbeat a heartbeat. Runs on the
	 * fan-out thread.
	 */
	private void heartbeat() {
		long quietSince = this.ticker.getAsLong() - this.heartbeatNanos;
		this.streams.forEach((stream) -> stream.onHeartbeat(quietSince));
	}

	/**
	 * Have a long-poll wait for the next value.
	 * @param poll the long-poll
	 * @return whether it waits; {@code false} if the hub is full
	 */
	boolean awaitNext(Subscriber poll) {
		if (!reserve()) {
			return false;
		}
		this.polls.add(poll);
		return true;
	}

	/**
	 * Take a place for a new stream, if the hub has one.
	 * @return whether a place was taken, or why not
	 */
	Admission admitStream() {
		if (this.closed) {
			return Admission.CLOSED;
		}
		return reserve() ? Admission.TAKEN : Admission.FULL;
	}

	/**
	 * Subscribe a stream that was {@link #admitStream() admitted}: it gets the values
	 * after the given event id, or the current value, and then every new one, until it
	 * ends or the hub closes.
	 * @param stream the stream
	 * @param lastEventId the id of the last event the client had, or -1
	 */
	void subscribe(Subscriber stream, long lastEventId) {
		// On the fan-out thread, so that no value falls between the replay and the live
		// ones
		boolean accepted = onFanOutThread(() -> {
			this.streams.add(stream);
			if (stream.isEnded()) {
				// Ended before it was subscribed
				unsubscribe(stream);
				return;
			}
			for (SequenceValue value : startingFrom(lastEventId)) {
				stream.onMissed(value);
			}
			if (this.closed) {
				stream.onClose();
			}
		});
		if (!accepted) {
			this.subscribers.decrementAndGet();
			stream.onClose();
		}
	}

	/**
	 * Forget a subscriber that has ended or been served.
	 * @param subscriber the subscriber
	 * @return whether it was still subscribed
	 */
	boolean unsubscribe(Subscriber subscriber) {
		if (this.polls.remove(subscriber)) {
			this.subscribers.decrementAndGet();
			return true;
		}
		if (this.streams.remove(subscriber)) {
			this.subscribers.decrementAndGet();
			synchronized (this.streams) {
				this.streams.notifyAll();
			}
			return true;
		}
		return false;
	}

	/**
	 * Stop every waiting long-poll: the service cannot wait for the next value any more.
	 */
	void closePolls() {
		for (Subscriber poll : this.polls) {
			if (unsubscribe(poll)) {
				poll.onClose();
			}
		}
	}

	/**
	 * Close every open stream and take no new one; streams that do not end within a
	 * second are cut.
	 */
	void closeStreams() {
		this.closed = true;
		int open = this.streams.size();
		onFanOutThread(() -> this.streams.forEach(Subscriber::onClose));
		this.fanOut.shutdown();
		awaitStreamsEnded();
		int cut = this.streams.size();
		this.streams.forEach(Subscriber::abort);
		if (cut > 0) {
			logger.info("Told {} open stream(s) that the service is shutting down; cut {} that did not take it "
					+ "within {}", open, cut, GOODBYE_TIMEOUT);
		}
		else if (open > 0) {
			logger.info("Told {} open stream(s) that the service is shutting down", open);
		}
	}

	private void awaitStreamsEnded() {
		long deadline = System.nanoTime() + GOODBYE_TIMEOUT.toNanos();
		synchronized (this.streams) {
			try {
				long left = deadline - System.nanoTime();
				while (!this.streams.isEmpty() && left > 0) {
					TimeUnit.NANOSECONDS.timedWait(this.streams, left);
					left = deadline - System.nanoTime();
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
	}

	private boolean reserve() {
		if (this.subscribers.incrementAndGet() > this.maxSubscribers) {
			this.subscribers.decrementAndGet();
			return false;
		}
		return true;
	}

	private boolean onFanOutThread(Runnable task) {
		try {
			this.fanOut.execute(task);
			return true;
		}
		catch (RejectedExecutionException ex) {
			// Closed: streams have been told already
			return false;
		}
	}

	/**
	 * Whether the hub took a stream.
	 */
	enum Admission {

		/**
		 * Taken.
		 */
		TAKEN,

		/**
		 * Turned away: {@code sequence.max-subscribers} are open.
		 */
		FULL,

		/**
		 * Turned away: the hub is closed.
		 */
		CLOSED

	}

}

package com.example.gracefulsequence.sequence;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands values to open streams on a few writer threads, the lanes, one per core: each
 * stream belongs to one lane, which writes everything it gets (its missed values, the
 * live ones, heartbeats, the shutdown event) in order, so that nothing overtakes a value
 * and the producer never waits on a client. One timer gives every stream that has been
 * quiet for the heartbeat a heartbeat, on its lane. A lane that is behind takes every
 * value that waits for it at once, and a stream that can take them all gets them with one
 * flush.
 *
 * @author graceful-sequence contributors
 */
final class StreamFanOut {

	private static final Logger logger = LoggerFactory.getLogger(StreamFanOut.class);

	/**
	 * How long the streams have to take the goodbye before they are cut.
	 */
	static final Duration GOODBYE_TIMEOUT = Duration.ofSeconds(1);

	private final FanOutLane[] lanes;

	private final Map<Subscriber, FanOutLane> streams = new ConcurrentHashMap<>();

	private final AtomicInteger nextLane = new AtomicInteger();

	private final long heartbeatNanos;

	private final LongSupplier ticker;

	private final Duration goodbyeTimeout;

	/**
	 * Create the lanes, and the timer of the heartbeat.
	 * @param lanes how many writer threads
	 * @param heartbeat how long a stream may be quiet before it gets a heartbeat; zero
	 * for none
	 * @param ticker elapsed time in nanoseconds, as {@link System#nanoTime()}
	 */
	StreamFanOut(int lanes, Duration heartbeat, LongSupplier ticker) {
		this(lanes, heartbeat, ticker, GOODBYE_TIMEOUT);
	}

	/**
	 * Create the lanes, and the timer of the heartbeat.
	 * @param lanes how many writer threads
	 * @param heartbeat how long a stream may be quiet before it gets a heartbeat; zero
	 * for none
	 * @param ticker elapsed time in nanoseconds, as {@link System#nanoTime()}
	 * @param goodbyeTimeout how long the streams have to take the goodbye
	 */
	StreamFanOut(int lanes, Duration heartbeat, LongSupplier ticker, Duration goodbyeTimeout) {
		this.goodbyeTimeout = goodbyeTimeout;
		this.lanes = new FanOutLane[lanes];
		for (int i = 0; i < lanes; i++) {
			this.lanes[i] = new FanOutLane("sequence-fan-out-" + (i + 1));
		}
		this.heartbeatNanos = heartbeat.toNanos();
		this.ticker = ticker;
		if (this.heartbeatNanos > 0) {
			// A quarter of the heartbeat apart, so that a stream is quiet for at most
			// 1.25 heartbeats; on the first lane, which hands the heartbeat to every lane
			long tick = Math.max(1, this.heartbeatNanos / 4);
			this.lanes[0].every(tick, this::heartbeat);
		}
	}

	/**
	 * How many streams are open.
	 * @return the number of streams
	 */
	int size() {
		return this.streams.size();
	}

	/**
	 * Give a stream a lane: there it first runs the given start (the values it missed),
	 * then gets every value published after it.
	 * @param stream the stream
	 * @param start what to run on the stream's lane once it is in
	 * @return {@code false} if the fan-out is closed, and the stream was not added
	 */
	boolean add(Subscriber stream, Runnable start) {
		FanOutLane lane = this.lanes[Math.floorMod(this.nextLane.getAndIncrement(), this.lanes.length)];
		return lane.run(() -> {
			this.streams.put(stream, lane);
			lane.add(stream);
			start.run();
		});
	}

	/**
	 * Hand a value to every stream, each on its lane.
	 * @param value the value
	 */
	void publish(SequenceValue value) {
		for (FanOutLane lane : this.lanes) {
			lane.publish(value);
		}
	}

	/**
	 * Forget a stream that has ended.
	 * @param stream the stream
	 * @return whether it was open
	 */
	boolean remove(Subscriber stream) {
		FanOutLane lane = this.streams.remove(stream);
		if (lane == null) {
			return false;
		}
		lane.remove(stream);
		synchronized (this.streams) {
			this.streams.notifyAll();
		}
		return true;
	}

	/**
	 * Tell every stream to go and take no new one; streams that do not end within a
	 * second are cut.
	 */
	void close() {
		int open = this.streams.size();
		for (FanOutLane lane : this.lanes) {
			lane.close();
		}
		awaitStreamsEnded();
		int cut = this.streams.size();
		this.streams.keySet().forEach(Subscriber::abort);
		if (cut > 0) {
			logger.info("Told {} open stream(s) that the service is shutting down; cut {} that did not take it "
					+ "within {}", open, cut, this.goodbyeTimeout);
		}
		else if (open > 0) {
			logger.info("Told {} open stream(s) that the service is shutting down", open);
		}
	}

	private void heartbeat() {
		long quietSince = this.ticker.getAsLong() - this.heartbeatNanos;
		for (FanOutLane lane : this.lanes) {
			lane.heartbeat(quietSince);
		}
	}

	private void awaitStreamsEnded() {
		// A real wait, on the wall's elapsed time: it ends when the last stream does
		long deadline = System.nanoTime() + this.goodbyeTimeout.toNanos();
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

}

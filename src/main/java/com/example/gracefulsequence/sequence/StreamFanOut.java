package com.example.gracefulsequence.sequence;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
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

	private static final Duration GOODBYE_TIMEOUT = Duration.ofSeconds(1);

	private final Lane[] lanes;

	private final Map<Subscriber, Lane> streams = new ConcurrentHashMap<>();

	private final AtomicInteger nextLane = new AtomicInteger();

	private final long heartbeatNanos;

	private final LongSupplier ticker;

	/**
	 * Create the lanes, and the timer of the heartbeat.
	 * @param lanes how many writer threads
	 * @param heartbeat how long a stream may be quiet before it gets a heartbeat; zero
	 * for none
	 * @param ticker elapsed time in nanoseconds, as {@link System#nanoTime()}
	 */
	StreamFanOut(int lanes, Duration heartbeat, LongSupplier ticker) {
		this.lanes = new Lane[lanes];
		for (int i = 0; i < lanes; i++) {
			this.lanes[i] = new Lane("sequence-fan-out-" + (i + 1));
		}
		this.heartbeatNanos = heartbeat.toNanos();
		this.ticker = ticker;
		if (this.heartbeatNanos > 0) {
			// A quarter of the heartbeat apart, so that a stream is quiet for at most
			// 1.25
			// heartbeats; on the first lane, which hands the heartbeat to every lane
			long tick = Math.max(1, this.heartbeatNanos / 4);
			this.lanes[0].executor.scheduleAtFixedRate(this::heartbeat, tick, tick, TimeUnit.NANOSECONDS);
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
		Lane lane = this.lanes[Math.floorMod(this.nextLane.getAndIncrement(), this.lanes.length)];
		return lane.run(() -> {
			this.streams.put(stream, lane);
			lane.members.add(stream);
			start.run();
		});
	}

	/**
	 * Hand a value to every stream, each on its lane.
	 * @param value the value
	 */
	void publish(SequenceValue value) {
		for (Lane lane : this.lanes) {
			if (!lane.members.isEmpty()) {
				lane.publish(value);
			}
		}
	}

	/**
	 * Forget a stream that has ended.
	 * @param stream the stream
	 * @return whether it was open
	 */
	boolean remove(Subscriber stream) {
		Lane lane = this.streams.remove(stream);
		if (lane == null) {
			return false;
		}
		lane.members.remove(stream);
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
		for (Lane lane : this.lanes) {
			lane.run(() -> lane.members.forEach(Subscriber::onClose));
			lane.executor.shutdown();
		}
		awaitStreamsEnded();
		int cut = this.streams.size();
		this.streams.keySet().forEach(Subscriber::abort);
		if (cut > 0) {
			logger.info("Told {} open stream(s) that the service is shutting down; cut {} that did not take it "
					+ "within {}", open, cut, GOODBYE_TIMEOUT);
		}
		else if (open > 0) {
			logger.info("Told {} open stream(s) that the service is shutting down", open);
		}
	}

	private void heartbeat() {
		long quietSince = this.ticker.getAsLong() - this.heartbeatNanos;
		for (Lane lane : this.lanes) {
			if (!lane.members.isEmpty()) {
				lane.run(() -> lane.members.forEach((stream) -> stream.onHeartbeat(quietSince)));
			}
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

	/**
	 * One writer thread and the streams it writes.
	 */
	private static final class Lane {

		private final ScheduledExecutorService executor;

		private final Set<Subscriber> members = ConcurrentHashMap.newKeySet();

		// Published and not yet handed to the streams
		private final Queue<SequenceValue> values = new ConcurrentLinkedQueue<>();

		// Whether a task that hands them over is queued and has not yet taken them
		private final AtomicBoolean handOverQueued = new AtomicBoolean();

		Lane(String name) {
			this.executor = Executors.newSingleThreadScheduledExecutor((task) -> {
				// A daemon, as Tomcat's threads are: the shutdown tells streams to go
				// before the JVM ends, and a start-up that fails before it must not be
				// kept alive by the heartbeat's timer
				Thread thread = new Thread(task, name);
				thread.setDaemon(true);
				return thread;
			});
		}

		/**
		 * Queue a value for the streams: one task hands over every value that waits, so
		 * that a lane that is behind catches up in one pass over its streams, and a task
		 * queued after this call (a heartbeat, the goodbye) runs after it.
		 * @param value the value
		 */
		void publish(SequenceValue value) {
			this.values.add(value);
			if (this.handOverQueued.compareAndSet(false, true)) {
				// Refused once the lane is closed: its streams have been told, and they
				// end within the goodbye's timeout, after which no value comes here
				run(this::handOver);
			}
		}

		private void handOver() {
			this.handOverQueued.set(false);
			List<SequenceValue> taken = new ArrayList<>();
			for (SequenceValue value = this.values.poll(); value != null; value = this.values.poll()) {
				taken.add(value);
			}
			if (taken.isEmpty()) {
				return;
			}
			List<SequenceValue> batch = Collections.unmodifiableList(taken);
			for (Subscriber stream : this.members) {
				if (batch.size() > 1) {
					stream.onValues(batch);
				}
				else {
					stream.onValue(batch.get(0));
				}
			}
		}

		boolean run(Runnable task) {
			try {
				this.executor.execute(task);
				return true;
			}
			catch (RejectedExecutionException ex) {
				// Closed: its streams have been told already
				return false;
			}
		}

	}

}

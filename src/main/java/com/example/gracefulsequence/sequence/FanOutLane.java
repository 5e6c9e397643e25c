package com.example.gracefulsequence.sequence;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One writer thread of the {@link StreamFanOut} and the streams it writes: everything a
 * stream gets (its missed values, the live ones, heartbeats, the shutdown event) runs on
 * its lane, in order. A lane that is behind takes every value that waits for it at once,
 * and a stream that can take them all gets them with one flush.
 *
 * @author graceful-sequence contributors
 */
final class FanOutLane {

	private final ScheduledExecutorService executor;

	private final Set<Subscriber> members = ConcurrentHashMap.newKeySet();

	// Published and not yet handed to the streams
	private final Queue<SequenceValue> values = new ConcurrentLinkedQueue<>();

	// Whether a task that hands them over is queued and has not yet taken them
	private final AtomicBoolean handOverQueued = new AtomicBoolean();

	/**
	 * Start a lane.
	 * @param name the name of its thread
	 */
	FanOutLane(String name) {
		this.executor = Executors.newSingleThreadScheduledExecutor((task) -> {
			// A daemon, as Tomcat's threads are: the shutdown tells streams to go before
			// the JVM ends, and a start-up that fails before it must not be kept alive by
			// the heartbeat's timer
			Thread thread = new Thread(task, name);
			thread.setDaemon(true);
			return thread;
		});
	}

	/**
	 * Make a stream a member; called on the lane.
	 * @param stream the stream
	 */
	void add(Subscriber stream) {
		this.members.add(stream);
	}

	void remove(Subscriber stream) {
		this.members.remove(stream);
	}

	/**
	 * Queue a value for the streams: one task hands over every value that waits, so that
	 * a lane that is behind catches up in one pass over its streams, and a task queued
	 * after this call (a heartbeat, the goodbye) runs after it.
	 * @param value the value
	 */
	void publish(SequenceValue value) {
		if (this.members.isEmpty()) {
			return;
		}
		this.values.add(value);
		if (this.handOverQueued.compareAndSet(false, true)) {
			// Refused once the lane is closed: its streams have been told, and they end
			// within the goodbye's timeout, after which no value comes here
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
			stream.onValues(batch);
		}
	}

	/**
	 * Give every stream of the lane that was quiet since the given instant a heartbeat.
	 * @param quietSince an instant of the fan-out's ticker, in nanoseconds
	 */
	void heartbeat(long quietSince) {
		if (!this.members.isEmpty()) {
			run(() -> this.members.forEach((stream) -> stream.onHeartbeat(quietSince)));
		}
	}

	/**
	 * Run a task on the lane every given time.
	 * @param nanos the time between two runs, in nanoseconds
	 * @param task the task
	 */
	void every(long nanos, Runnable task) {
		this.executor.scheduleAtFixedRate(task, nanos, nanos, TimeUnit.NANOSECONDS);
	}

	/**
	 * Tell every stream of the lane to go, after what is queued, and take no more work.
	 */
	void close() {
		run(() -> this.members.forEach(Subscriber::onClose));
		this.executor.shutdown();
	}

	/**
	 * Run a task on the lane, after what is queued.
	 * @param task the task
	 * @return {@code false} if the lane is closed, and the task will not run
	 */
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

package com.example.gracefulsequence.sequence.cluster;

import java.time.Duration;
import java.util.function.Consumer;

import com.example.gracefulsequence.sequence.SequenceValue;
import com.example.gracefulsequence.sequence.cluster.RedisSequenceStore.Read;

import org.springframework.dao.QueryTimeoutException;

/**
 * Follows the cluster's sequence on its own thread and connection: a blocking read of the
 * values and the control stream, from the last id it read, so that after a cut connection
 * or a Redis that was down it catches up from the history and misses nothing. It hands
 * each value on in order, the leader's own included, and says when a leader handed its
 * lease over.
 *
 * @author graceful-sequence contributors
 */
final class Following implements Runnable {

	private static final Duration MAX_PAUSE = Duration.ofSeconds(1);

	private final RedisSequenceStore store;

	private final Duration block;

	private final RedisReachability redis;

	private final Consumer<SequenceValue> values;

	private final Runnable leaseReleased;

	private final Thread thread;

	private final Object monitor = new Object();

	private volatile boolean following = true;

	// Only the thread touches these two
	private long lastId;

	private String lastControlId = "";

	/**
	 * Create a follower.
	 * @param store the cluster's sequence in Redis
	 * @param block how long a read waits for a value, below the command timeout
	 * @param redis whether Redis is reached
	 * @param from the event id after which to follow, or 0 for the whole history
	 * @param values takes each new value, on the follower's thread
	 * @param leaseReleased told when a leader handed its lease over
	 */
	Following(RedisSequenceStore store, Duration block, RedisReachability redis, long from,
			Consumer<SequenceValue> values, Runnable leaseReleased) {
		this.store = store;
		this.block = block;
		this.redis = redis;
		this.lastId = from;
		this.values = values;
		this.leaseReleased = leaseReleased;
		this.thread = new Thread(this, "sequence-follower");
	}

	void start() {
		this.thread.start();
	}

	@Override
	public void run() {
		Duration pause = Duration.ofMillis(50);
		while (this.following) {
			try {
				if (this.lastControlId.isEmpty()) {
					this.lastControlId = this.store.lastControlId();
				}
				Read read = this.store.read(this.lastId, this.lastControlId, this.block);
				this.redis.succeeded();
				this.redis.primaryIs(read.primary());
				pause = Duration.ofMillis(50);
				for (SequenceValue value : read.values()) {
					this.lastId = value.eventId();
					this.values.accept(value);
				}
				this.lastControlId = read.control();
				if (read.released()) {
					this.leaseReleased.run();
				}
			}
			catch (QueryTimeoutException ex) {
				// A blocking read may outlast its bound by Redis' own timer (hz 10 ends
				// it up to 100 ms late): the next read asks again from the last id, on
				// the same connection, which Lettuce keeps in step. A Redis that stands
				// still shows in the other calls, and its connections start again then
				// (RedisReachability)
			}
			catch (RuntimeException ex) {
				this.redis.failed("follow the sequence", ex);
				// A new connection for the next read; the read resumes from the last id
				this.store.closeReader();
				pauseFor(pause);
				pause = (pause.compareTo(MAX_PAUSE) < 0) ? pause.multipliedBy(2) : MAX_PAUSE;
			}
		}
		this.store.closeReader();
	}

	private void pauseFor(Duration pause) {
		synchronized (this.monitor) {
			if (this.following) {
				try {
					this.monitor.wait(pause.toMillis());
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
					this.following = false;
				}
			}
		}
	}

	/**
	 * Stop following; the read under way, if any, ends within its block time.
	 * @param timeout how long to wait for the thread to end
	 */
	void stop(Duration timeout) {
		synchronized (this.monitor) {
			this.following = false;
			this.monitor.notifyAll();
		}
		try {
			this.thread.join(timeout.toMillis());
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

}

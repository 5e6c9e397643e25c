package com.example.gracefulsequence.sequence.cluster;

import java.util.List;
import java.util.Properties;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

import com.example.gracefulsequence.sequence.SequenceOrigin;
import com.example.gracefulsequence.sequence.SequenceValue;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.core.NestedExceptionUtils;

/**
 * In cluster mode (the only one where it exists), the hub starts from the cluster's
 * history, read before the port opens, rather than from the state file, which then only
 * serves while Redis cannot be reached; a stream that resumes from an id newer than this
 * instance's latest is told whether the cluster holds it, on a thread of its own. It
 * warns once when Redis may evict the sequence's keys or keeps no journal of them.
 *
 * @author graceful-sequence contributors
 */
final class ClusterOrigin implements SequenceOrigin {

	private static final Logger logger = LoggerFactory.getLogger(ClusterOrigin.class);

	private static final int ATTEMPTS = 3;

	private final ClusterSettings settings;

	private final RedisSequenceStore store;

	private volatile boolean reached = true;

	private final Executor lookups = Executors.newSingleThreadExecutor((task) -> {
		Thread thread = new Thread(task, "sequence-lookup");
		thread.setDaemon(true);
		return thread;
	});

	ClusterOrigin(ClusterSettings settings, RedisSequenceStore store) {
		this.settings = settings;
		this.store = store;
	}

	@Override
	public @Nullable List<SequenceValue> history() {
		RuntimeException failure = null;
		// A few tries: the first connection of a busy machine may take longer than one
		// call
		for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
			try {
				return startingHistory();
			}
			catch (RuntimeException ex) {
				failure = ex;
			}
		}
		this.reached = false;
		logger.warn(
				"Redis cannot be reached at start ({}); serving the value of the state file, if any, " + "until it can",
				NestedExceptionUtils.getMostSpecificCause(failure).getMessage());
		return null;
	}

	private @Nullable List<SequenceValue> startingHistory() {
		List<SequenceValue> history = this.store.latest(this.settings.keep());
		warnAboutPersistence(this.store.info());
		if (history.isEmpty()) {
			logger.info("The cluster's sequence is empty: its first leader starts it");
			return null;
		}
		SequenceValue latest = history.get(history.size() - 1);
		logger.info("Following the cluster's sequence from value {} at position {}", latest.value(), latest.index());
		return history;
	}

	@Override
	public void holds(long eventId, Consumer<Boolean> answer) {
		// Off the request thread, bounded by the command timeout
		this.lookups.execute(() -> {
			boolean held;
			try {
				List<SequenceValue> latest = this.store.latest(1);
				held = !latest.isEmpty() && latest.get(0).eventId() >= eventId;
			}
			catch (RuntimeException ex) {
				// Cannot tell: never an older value than the client had
				held = true;
			}
			answer.accept(held);
		});
	}

	/**
	 * Whether Redis was reached when the history was read.
	 * @return whether it was reached
	 */
	boolean reached() {
		return this.reached;
	}

	private static void warnAboutPersistence(Properties info) {
		String policy = info.getProperty("maxmemory_policy", "noeviction");
		if (!policy.equals("noeviction")) {
			logger.warn("Redis evicts keys (maxmemory-policy {}): it may evict the cluster's lease or history; "
					+ "set maxmemory-policy noeviction", policy);
		}
		if (!"1".equals(info.getProperty("aof_enabled"))) {
			logger.warn("Redis keeps no append-only file (appendonly no): a restart of Redis may lose the latest "
					+ "values of the cluster's sequence; set appendonly yes");
		}
	}

}

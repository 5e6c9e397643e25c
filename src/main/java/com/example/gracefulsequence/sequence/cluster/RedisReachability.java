package com.example.gracefulsequence.sequence.cluster;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.boot.health.contributor.Health;
import org.springframework.core.NestedExceptionUtils;

/**
 * Whether this instance reaches Redis, as its calls find: unreachable when no call has
 * succeeded for a grace time, with one WARN, and reached again with one INFO at the next
 * call that succeeds, not one line per retry; while it is unreachable, its connections
 * start again once a grace time, since a Redis that is cut off keeps them open, and so
 * they do while Redis answers but refuses writes, as an old primary does while Sentinel
 * fails it over (with one WARN, and one INFO at the next write it takes); the
 * {@code sequence.cluster.redis.up} gauge and {@code sequence.cluster.redis.errors}
 * counter; a new primary (a failover) with one WARN and
 * {@code sequence.cluster.redis.failovers}; and the service's own {@code redis} health
 * component, which readiness does not include: an instance without Redis still serves
 * what it has.
 *
 * @author graceful-sequence contributors
 */
final class RedisReachability {

	private static final Logger logger = LoggerFactory.getLogger(RedisReachability.class);

	private final AtomicBoolean up = new AtomicBoolean(true);

	private final AtomicBoolean refusing = new AtomicBoolean();

	private final Counter errors;

	private final Counter failovers;

	private volatile @Nullable String primary;

	private final BooleanSupplier leading;

	private volatile @Nullable String lastError;

	private final Duration grace;

	private final LongSupplier ticker;

	private volatile long reachedAt;

	private volatile long reconnectedAt;

	private final Runnable reconnect;

	/**
	 * Start telling whether Redis is reached.
	 * @param registry where its meters go
	 * @param leading whether this instance leads, a detail of the health component
	 * @param up whether Redis was reached so far
	 * @param grace how long Redis may go unreached, by every call, before it counts as
	 * unreachable
	 * @param ticker elapsed time in nanoseconds, as {@link System#nanoTime()}
	 * @param reconnect drops the connections to Redis, for new ones on the next call; run
	 * at most once a grace time while Redis is not reached
	 */
	RedisReachability(MeterRegistry registry, BooleanSupplier leading, boolean up, Duration grace, LongSupplier ticker,
			Runnable reconnect) {
		this.reconnect = reconnect;
		this.leading = leading;
		this.up.set(up);
		this.grace = grace;
		this.ticker = ticker;
		this.reachedAt = ticker.getAsLong();
		this.reconnectedAt = this.reachedAt;
		this.errors = Counter.builder("sequence.cluster.redis.errors")
			.description("Redis calls of cluster mode that failed")
			.register(registry);
		this.failovers = Counter.builder("sequence.cluster.redis.failovers")
			.description("Times this instance found a new Redis primary (a new replication id): a failover, "
					+ "or a Redis restarted")
			.register(registry);
		Gauge.builder("sequence.cluster.redis.up", this, (reachability) -> reachability.up.get() ? 1 : 0)
			.description("1 while this instance's last Redis call succeeded, else 0")
			.register(registry);
	}

	/**
	 * A call to Redis succeeded.
	 */
	void succeeded() {
		this.reachedAt = this.ticker.getAsLong();
		if (this.up.compareAndSet(false, true)) {
			logger.info("Redis can be reached again; following the cluster's sequence");
		}
	}

	/**
	 * A call that writes to Redis (a script of the lease or of the values) succeeded.
	 */
	void wrote() {
		succeeded();
		if (this.refusing.compareAndSet(true, false)) {
			logger.info("Redis takes writes again");
		}
	}

	/**
	 * A call to Redis failed.
	 * @param what what the call was for, such as {@code read the sequence}
	 * @param ex why
	 */
	void failed(String what, RuntimeException ex) {
		this.errors.increment();
		String cause = String.valueOf(NestedExceptionUtils.getMostSpecificCause(ex).getMessage());
		String error = what + ": " + cause;
		this.lastError = error;
		long now = this.ticker.getAsLong();
		// Reached by another call a moment ago: one connection is behind the other, and
		// reconnects on its own
		boolean unreached = now - this.reachedAt > this.grace.toNanos();
		boolean refused = refusesWrites(cause);
		if (refused && this.refusing.compareAndSet(false, true)) {
			logger.warn("Redis answers but refuses writes ({}): a replica, or a primary without its replicas, "
					+ "as an old primary is while Sentinel fails it over; connecting again, to the primary "
					+ "that Sentinel names if there is one, once every {}", error, this.grace);
		}
		if ((unreached || refused) && now - this.reconnectedAt > this.grace.toNanos()) {
			// A Redis cut off without closing its connections (paused, partitioned) keeps
			// them open, and so does one that Sentinel is failing over until it demotes
			// it: start again, and ask Sentinel, if there is one, where the primary is
			// now
			this.reconnectedAt = now;
			this.reconnect.run();
		}
		if (unreached && this.up.compareAndSet(true, false)) {
			logger.warn("Redis cannot be reached ({}); serving the latest value and retrying, "
					+ "and no instance produces until Redis can be reached again", error);
		}
		else {
			logger.debug("Redis call failed ({})", error, ex);
		}
	}

	// Redis' answers of a node that takes reads but not writes: a replica, and a primary
	// with min-replicas-to-write that has too few replicas; scripts answer them with the
	// same code first
	private static boolean refusesWrites(String error) {
		return error.startsWith("READONLY") || error.startsWith("NOREPLICAS");
	}

	/**
	 * A new connection found the Redis primary with the given replication id.
	 * @param replicationId the primary's replication id, or an empty string if unknown
	 */
	void primaryIs(String replicationId) {
		String previous = this.primary;
		if (replicationId.isEmpty() || replicationId.equals(previous)) {
			return;
		}
		this.primary = replicationId;
		if (previous != null) {
			this.failovers.increment();
			logger.warn("Redis has a new primary (replication id {}, was {}): a failover, or Redis restarted; "
					+ "the sequence goes on from the values it holds", replicationId, previous);
		}
	}

	/**
	 * Whether the last call to Redis succeeded.
	 * @return whether Redis is reached
	 */
	boolean isUp() {
		return this.up.get();
	}

	/**
	 * The {@code redis} health component.
	 * @return up while Redis is reached, down with the last error otherwise
	 */
	Health health() {
		Health.Builder health = isUp() ? Health.up()
				: Health.down().withDetail("error", String.valueOf(this.lastError));
		return health.withDetail("leader", this.leading.getAsBoolean()).build();
	}

}

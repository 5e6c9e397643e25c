package com.example.gracefulsequence.sequence.cluster;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.boot.health.contributor.Health;

/**
 * Whether this instance reaches Redis, as its last call found: one WARN when it stops
 * reaching it and one INFO when it reaches it again, not one line per retry; the
 * {@code sequence.cluster.redis.up} gauge and {@code sequence.cluster.redis.errors}
 * counter; and the service's own {@code redis} health component, which readiness does not
 * include: an instance without Redis still serves what it has.
 *
 * @author graceful-sequence contributors
 */
final class RedisReachability {

	private static final Logger logger = LoggerFactory.getLogger(RedisReachability.class);

	private final AtomicBoolean up = new AtomicBoolean(true);

	private final Counter errors;

	private final BooleanSupplier leading;

	private volatile @Nullable String lastError;

	/**
	 * Start telling whether Redis is reached.
	 * @param registry where its meters go
	 * @param leading whether this instance leads, a detail of the health component
	 * @param up whether Redis was reached so far
	 */
	RedisReachability(MeterRegistry registry, BooleanSupplier leading, boolean up) {
		this.leading = leading;
		this.up.set(up);
		this.errors = Counter.builder("sequence.cluster.redis.errors")
			.description("Redis calls of cluster mode that failed")
			.register(registry);
		Gauge.builder("sequence.cluster.redis.up", this, (reachability) -> reachability.up.get() ? 1 : 0)
			.description("1 while this instance's last Redis call succeeded, else 0")
			.register(registry);
	}

	/**
	 * A call to Redis succeeded.
	 */
	void succeeded() {
		if (this.up.compareAndSet(false, true)) {
			logger.info("Redis can be reached again; following the cluster's sequence");
		}
	}

	/**
	 * A call to Redis failed.
	 * @param what what the call was for, such as {@code read the sequence}
	 * @param ex why
	 */
	void failed(String what, RuntimeException ex) {
		this.errors.increment();
		this.lastError = what + ": " + ex.getMessage();
		if (this.up.compareAndSet(true, false)) {
			logger.warn("Redis cannot be reached ({}: {}); serving the latest value and retrying, "
					+ "and no instance produces until Redis can be reached again", what, ex.getMessage());
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

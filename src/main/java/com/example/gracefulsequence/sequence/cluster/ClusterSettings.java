package com.example.gracefulsequence.sequence.cluster;

import java.time.Duration;
import java.util.Collections;
import java.util.List;

import com.example.gracefulsequence.sequence.SequenceProperties;
import org.jspecify.annotations.Nullable;

/**
 * What cluster mode runs on: the sequence's settings, which every leader of one cluster
 * shares, and the bounds on Redis calls that follow from them.
 *
 * @param enabled whether this instance follows a cluster
 * @param period time between two values
 * @param bound exclusive upper bound of each value
 * @param seed the seed of the sequence, if fixed
 * @param lease how long the leader's lease lives without renewal
 * @param timeout the bound of every Redis call: Lettuce's command and connect timeouts
 * @param replay how many values the instance keeps for resuming streams
 * @param replicas how many replicas must hold a value before clients get it
 * @author graceful-sequence contributors
 */
record ClusterSettings(boolean enabled, Duration period, int bound, @Nullable Long seed, Duration lease,
		Duration timeout, int replay, int replicas) {

	/**
	 * The bound of a Redis call when {@code spring.data.redis.timeout} does not set a
	 * shorter one (Lettuce's own is a minute).
	 */
	static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(1);

	/**
	 * The settings of an instance, with a bound on Redis calls that no call can hold the
	 * producer past its period, or the leader past its renewal: the configured command
	 * timeout, or a second, but at most half the period and half the renewal time.
	 * @param properties the sequence's properties
	 * @param timeout {@code spring.data.redis.timeout}, if set
	 * @return the settings
	 */
	static ClusterSettings of(SequenceProperties properties, @Nullable Duration timeout) {
		SequenceProperties.Cluster cluster = properties.cluster();
		Duration bound = Collections.min(List.of((timeout != null) ? timeout : DEFAULT_TIMEOUT,
				properties.period().dividedBy(2), cluster.lease().dividedBy(6)));
		return new ClusterSettings(cluster.enabled(), properties.period(), properties.bound(), properties.seed(),
				cluster.lease(), bound, properties.stream().replay(), cluster.replicas());
	}

	/**
	 * How often the leader renews its lease: three times in its life.
	 * @return the time between renewals
	 */
	Duration renewal() {
		return this.lease.dividedBy(3);
	}

	/**
	 * How long a follower's read waits for a new value: half the command timeout, so that
	 * the read always answers within it.
	 * @return the time a read blocks
	 */
	Duration block() {
		return this.timeout.dividedBy(2);
	}

	/**
	 * How many values the cluster's history keeps at least: what resuming streams need,
	 * and the latest value in any case.
	 * @return the number of values
	 */
	int keep() {
		return Math.max(this.replay, 1);
	}

	/**
	 * The settings every leader of one cluster must share, as Redis keeps them: a leader
	 * that waited for fewer replicas would hand clients values that a failover can lose.
	 * @return the period, bound, seed and replicas as one string
	 */
	String shared() {
		return "period=" + this.period.toMillis() + "ms,bound=" + this.bound + ",seed="
				+ ((this.seed != null) ? this.seed : "none") + ",replicas=" + this.replicas;
	}

}

package com.example.gracefulsequence.sequence;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Configuration of the random sequence, bound from {@code sequence.*}.
 *
 * @param period time between two values; greater than zero
 * @param bound exclusive upper bound of each value; at least 1
 * @param seed fixed seed for the random generator: the same seed gives the same sequence
 * @param stateFile where the last value is kept, relative to the working directory
 * @param maxSubscribers open streams plus waiting long-polls; past it new ones are turned
 * away; unset: as many as the maximum heap holds, at most 10000
 * @param maxSubscribersPerClient open streams plus waiting long-polls of one client (its
 * address, or the one a trusted proxy forwards); past it that client is turned away; 0
 * for no limit
 * @param stream how event streams resume and come back
 * @param cors which other origins may read the API
 * @param fastPath whether the plain {@code GET /sequence/last} is answered before the
 * servlet filters
 * @param cluster whether and how instances that share a Redis serve one sequence
 * @author graceful-sequence contributors
 */
@ConfigurationProperties("sequence")
public record SequenceProperties(@DefaultValue("2s") Duration period, @DefaultValue("120") int bound,
		@Nullable Long seed, @DefaultValue("last-num-from-seq.txt") Path stateFile, @Nullable Integer maxSubscribers,
		@DefaultValue("0") int maxSubscribersPerClient, @DefaultValue Stream stream, @DefaultValue Cors cors,
		@DefaultValue FastPath fastPath, @DefaultValue Cluster cluster) {

	static final Duration MAX_RECONNECT_DELAY = Duration.ofHours(1);

	static final Duration MAX_HEARTBEAT = Duration.ofHours(1);

	static final int MAX_REPLAY = 100_000;

	static final Duration MIN_LEASE = Duration.ofMillis(300);

	static final int MAX_REPLICAS = 16;

	// Validation lives here rather than in Bean Validation annotations: it keeps a
	// validator implementation (and its start-up cost) off the classpath, and Boot's
	// failure analyzer still reports the message below, which names the property.
	public SequenceProperties {
		if (period.isNegative() || period.isZero()) {
			throw new IllegalArgumentException(
					"sequence.period must be greater than 0, for example 2s, but was " + period);
		}
		if (bound < 1) {
			throw new IllegalArgumentException("sequence.bound must be at least 1, but was " + bound);
		}
		if (maxSubscribers != null && maxSubscribers < 0) {
			throw new IllegalArgumentException("sequence.max-subscribers must be 0 or more, but was " + maxSubscribers);
		}
		if (maxSubscribersPerClient < 0) {
			throw new IllegalArgumentException(
					"sequence.max-subscribers-per-client must be 0 (no limit) or more, but was "
							+ maxSubscribersPerClient);
		}
		if (stateFile.toString().isBlank()) {
			throw new IllegalArgumentException("sequence.state-file must name a file, but was empty");
		}
	}

	/**
	 * How event streams resume and come back, bound from {@code sequence.stream.*}.
	 *
	 * @param reconnectDelay base of the {@code retry} sent to stream clients that are
	 * told to go or turned away; each gets a random delay from it to twice it
	 * @param replay how many of the latest values are kept for clients that resume with
	 * {@code Last-Event-ID}; 0 or more
	 * @param heartbeat how long a stream may go without a write before it gets a comment
	 * line, so that proxies do not cut a quiet stream; 0 turns it off; at most an hour
	 */
	public record Stream(@DefaultValue("3s") Duration reconnectDelay, @DefaultValue("64") int replay,
			@DefaultValue("15s") Duration heartbeat) {

		public Stream {
			if (reconnectDelay.isNegative() || reconnectDelay.isZero()
					|| reconnectDelay.compareTo(MAX_RECONNECT_DELAY) > 0) {
				throw new IllegalArgumentException("sequence.stream.reconnect-delay must be greater than 0 and at most "
						+ MAX_RECONNECT_DELAY.toHours() + "h, for example 3s, but was " + reconnectDelay);
			}
			if (replay < 0 || replay > MAX_REPLAY) {
				throw new IllegalArgumentException(
						"sequence.stream.replay must be from 0 to " + MAX_REPLAY + ", but was " + replay);
			}
			if (heartbeat.isNegative() || heartbeat.compareTo(MAX_HEARTBEAT) > 0) {
				throw new IllegalArgumentException("sequence.stream.heartbeat must be from 0s (off) to "
						+ MAX_HEARTBEAT.toHours() + "h, for example 15s, but was " + heartbeat);
			}
		}

	}

	/**
	 * Cross-origin access to {@code /sequence/**}, bound from {@code sequence.cors.*}.
	 *
	 * @param allowedOrigins origins whose pages may read the API, such as
	 * {@code https://example.com}; empty: same origin only
	 */
	public record Cors(@DefaultValue List<String> allowedOrigins) {

	}

	/**
	 * The hot path of {@code GET /sequence/last}, bound from
	 * {@code sequence.fast-path.*}.
	 *
	 * @param enabled whether the plain {@code GET /sequence/last} is answered in Tomcat's
	 * pipeline before the servlet filters; false when a filter of the application's own
	 * (security, tracing, rate limiting) must see it
	 */
	public record FastPath(@DefaultValue("true") boolean enabled) {

	}

	/**
	 * Cluster mode, bound from {@code sequence.cluster.*}: every instance that shares the
	 * Redis of {@code spring.data.redis.*} serves one sequence, produced by one leader at
	 * a time.
	 *
	 * @param enabled whether this instance serves the cluster's sequence rather than one
	 * of its own; decided when it starts, also on the AOT-processed jar
	 * @param lease how long the leader's lease lives without renewal: a follower takes
	 * the lead within it after the leader crashed
	 * @param replicas how many Redis replicas must hold a value before any instance hands
	 * it to a client (Redis' {@code WAIT}), so that a failover never loses a value that a
	 * client has seen; 0 hands it over as soon as the primary has it (one Redis, no
	 * failover)
	 */
	public record Cluster(@DefaultValue("false") boolean enabled, @DefaultValue("5s") Duration lease,
			@DefaultValue("0") int replicas) {

		public Cluster {
			if (lease.compareTo(MIN_LEASE) < 0) {
				throw new IllegalArgumentException("sequence.cluster.lease must be at least " + MIN_LEASE.toMillis()
						+ "ms, for example 5s, but was " + lease);
			}
			if (replicas < 0 || replicas > MAX_REPLICAS) {
				throw new IllegalArgumentException("sequence.cluster.replicas must be from 0 to " + MAX_REPLICAS
						+ ", for example 1 with Sentinel, but was " + replicas);
			}
		}

	}

}

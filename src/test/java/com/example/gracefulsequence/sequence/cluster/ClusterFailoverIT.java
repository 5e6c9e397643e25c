package com.example.gracefulsequence.sequence.cluster;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import com.example.gracefulsequence.ServiceProcess;
import com.example.gracefulsequence.sequence.cluster.ClusterInstances.Entry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What a Redis failover may cost the cluster's clients, with the packaged jar, a Sentinel
 * set and the commit mark ({@code sequence.cluster.replicas=1}): the primary killed at
 * random moments, twenty times; paused and continued after the promotion; killed while
 * its links to both replicas dropped everything, so that it held writes that no replica
 * had; and failed over while it runs ({@code SENTINEL FAILOVER}), five times, where it
 * keeps the replica that Sentinel has not moved yet for a moment after the promotion. Two
 * stream clients, one on each instance, keep the test's own record of every value they
 * received; the history on the last primary is the record of what the cluster committed.
 * Every value a client received is in it with its value, no id names two values, no
 * client's ids go back, and, but where the replicas were made to lag, the longest gap
 * between two values stays within the failover as measured (Sentinel's detection and
 * promotion), the lease and a period: where the primary is failed over while it runs, the
 * instances connect again on a refused write instead of waiting for its demotion.
 *
 * @author graceful-sequence contributors
 */
class ClusterFailoverIT {

	private static final Logger logger = LoggerFactory.getLogger(ClusterFailoverIT.class);

	private static final Duration PERIOD = Duration.ofMillis(500);

	private static final Duration LEASE = Duration.ofSeconds(2);

	// Every value of the test stays in the history, for the record to be checked against
	private static final int REPLAY = 100_000;

	private static final int REPLICAS = 1;

	private static final String[] ARGUMENTS = { "--sequence.period=" + PERIOD.toMillis() + "ms",
			"--sequence.cluster.lease=" + LEASE.toMillis() + "ms", "--sequence.stream.replay=" + REPLAY,
			"--sequence.cluster.replicas=" + REPLICAS };

	private static final int KILLS = 20;

	private static final int STOPS = 3;

	private static final int LAGS = 3;

	private static final int FAILOVERS = 5;

	// The Sentinels of the set, any of which may be asked for a failover
	private static final int SENTINELS = 3;

	// The random moment of a failure, after the sequence went on from the last one: more
	// than two periods, so that it falls anywhere in a period
	private static final int MOMENT_MILLIS = 1500;

	private static final Duration PROMOTION = Duration.ofSeconds(30);

	// Sentinel turns a paused primary that continues into a replica after it has
	// reported its role for eight seconds, on an INFO that it asks every ten
	private static final Duration SETTLE = Duration.ofSeconds(60);

	private static final Duration GOING_ON = LEASE.plus(PERIOD.multipliedBy(3)).plusSeconds(20);

	// Drawn for each test, and logged: the moments of its failures
	private final long seed = System.nanoTime();

	private final Random random = new Random(this.seed);

	// How the descriptions of awaits and assertions name the test's run
	private final String run = "the run with seed " + this.seed;

	private RedisSentinelSet redis;

	private ClusterInstances cluster;

	private Clients clients;

	// The id of the last value before the first failure
	private long from;

	@BeforeEach
	void start(@TempDir Path directory) throws Exception {
		this.redis = RedisSentinelSet.start(directory.resolve("redis"));
		this.cluster = ClusterInstances.startWithSentinels(this.redis, directory, 2, ARGUMENTS);
		this.clients = Clients.open(this.cluster);
		this.from = ClusterInstances.last(this.cluster.history()).id();
	}

	@AfterEach
	void stop() {
		if (this.clients != null) {
			this.clients.close();
		}
		if (this.cluster != null) {
			this.cluster.close();
		}
		if (this.redis != null) {
			this.redis.close();
		}
	}

	@Test
	void whenThePrimaryIsKilledTwentyTimesThenEveryValueAClientReceivedIsCommittedUnderItsIdAndNoneGoesBack()
			throws Exception {
		rounds(KILLS, "kill", (round, context) -> {
			Thread.sleep(this.random.nextInt(MOMENT_MILLIS));
			goOnAfterKill(this.redis.killPrimary(), context);
		});
		assertNothingLostOrRenamed(Set.of());
		assertGapsWithinBound("Promotions", this.redis.promotions());
	}

	@Test
	void whenThePrimaryIsPausedAndContinuesThenNothingWrittenToItWhileItWasCutOffReachesAClient() throws Exception {
		Set<Value> cutOff = new HashSet<>();
		rounds(STOPS, "pause", (round, context) -> {
			Thread.sleep(this.random.nextInt(MOMENT_MILLIS));
			RedisServer stopped = this.redis.stopPrimary();
			RedisServer promoted;
			try {
				promoted = this.redis.awaitPromotion(stopped, PROMOTION);
				awaitValueAfter(this.cluster, System.currentTimeMillis(), context);
			}
			finally {
				stopped.resume();
			}
			// Before the Sentinels make it a replica and it drops what it holds
			List<Value> diverged = diverged(ClusterInstances.history(stopped), ClusterInstances.history(promoted));
			logger.info("The paused primary held {} value(s) that the promoted one does not: {}", diverged.size(),
					diverged);
			cutOff.addAll(diverged);
		});
		assertNothingLostOrRenamed(cutOff);
		assertGapsWithinBound("Promotions", this.redis.promotions());
	}

	@Test
	void whenTheReplicasFallBehindAndThePrimaryIsKilledThenNoValueAClientReceivedIsLost() throws Exception {
		rounds(LAGS, "lag", (round, context) -> {
			List<ReplicationRelay> relays = this.redis.relayReplicas(SETTLE);
			RedisServer killed;
			try {
				relays.forEach(ReplicationRelay::cut);
				// Two periods or more: the primary takes writes that no replica gets, and
				// counts its replicas as good until min-replicas-max-lag (10 s)
				Thread.sleep(PERIOD.multipliedBy(2).toMillis() + this.random.nextInt((int) PERIOD.toMillis()));
				killed = this.redis.killPrimary();
			}
			finally {
				relays.forEach(ReplicationRelay::close);
			}
			goOnAfterKill(killed, context);
		});
		assertNothingLostOrRenamed(Set.of());
	}

	@Test
	void whenAFailoverIsAskedForWhileThePrimaryRunsThenEveryValueAClientReceivedIsCommittedUnderItsIdAndNoneGoesBack()
			throws Exception {
		// Each Sentinel in turn, from one drawn
		int first = this.random.nextInt(SENTINELS);
		rounds(FAILOVERS, "failover", (round, context) -> {
			Thread.sleep(this.random.nextInt(MOMENT_MILLIS));
			RedisServer former = this.redis.failOverPrimary((first + round) % SENTINELS);
			RedisServer promoted = this.redis.awaitPromotion(former, PROMOTION);
			// The set settles once the old primary follows the new one, about 11 s after
			// the request; the instances do not wait for it (below)
			this.redis.awaitDemoted(former, promoted, SETTLE);
			awaitValueAfter(this.cluster, System.currentTimeMillis(), context);
		});
		assertNothingLostOrRenamed(Set.of());
		logger.info("The old primaries followed the new ones {} ms after the requests",
				this.redis.demotions().stream().map(Duration::toMillis).toList());
		// The old primary keeps the instances' connections until it is demoted, and
		// refuses their writes once its replicas have left (NOREPLICAS): an instance
		// whose
		// write it refuses connects again, to the primary that Sentinel names, within a
		// renewal of the lease. Waiting for the demotion instead made clients wait 12 s,
		// past the bound
		assertGapsWithinBound("Promotions", this.redis.promotions());
	}

	// After a kill: the promotion, the killed primary back as a replica, and the sequence
	// going on from the promoted one
	private void goOnAfterKill(RedisServer killed, String context) throws IOException {
		this.redis.awaitPromotion(killed, PROMOTION);
		long promotedAt = System.currentTimeMillis();
		this.redis.restartAsReplica(killed);
		awaitValueAfter(this.cluster, promotedAt, context);
	}

	// The rounds of a test, each after the Sentinel set settled, and at the end every
	// client at the last value; a round's failure awaits the values that pace the next
	private void rounds(int rounds, String failure, Round round) throws Exception {
		logger.info("A {} in each of {} rounds, at moments drawn with the seed {}", failure, rounds, this.seed);
		try {
			for (int i = 1; i <= rounds; i++) {
				this.redis.awaitSettled(SETTLE);
				round.fail(i, failure + " " + i + " of " + this.run);
			}
			this.redis.awaitSettled(SETTLE);
			this.clients.awaitAtTheEndOf(this.cluster);
		}
		finally {
			this.clients.close();
		}
	}

	// The sequence goes on at its period: a value appended after the moment, on the
	// primary of the moment, and then one appended after that one was committed. After a
	// failover, the first value waits out the settle time under the id it was appended
	// with: a failure that follows it at once would add that wait to its own gap, and
	// the bound is that of one failure
	private static void awaitValueAfter(ClusterInstances cluster, long moment, String context) {
		awaitAppendedAfter(cluster, moment, "a value after " + context);
		awaitAppendedAfter(cluster, System.currentTimeMillis(), "the next value after " + context);
	}

	private static void awaitAppendedAfter(ClusterInstances cluster, long moment, String description) {
		await(description).atMost(GOING_ON)
			.pollInterval(Duration.ofMillis(50))
			.ignoreExceptions()
			.until(() -> ClusterInstances.last(cluster.history()).id() > moment);
	}

	// What one server's history holds and another's does not, by id and value
	private static List<Value> diverged(List<Entry> history, List<Entry> other) {
		Set<Value> held = new HashSet<>(other.stream().map(Value::of).toList());
		return history.stream().map(Value::of).filter((value) -> !held.contains(value)).toList();
	}

	private void assertNothingLostOrRenamed(Set<Value> cutOff) {
		List<Entry> history = this.cluster.history();
		ClusterLeadershipIT.assertOneWriterPerPosition(history);
		Map<Long, Integer> named = new HashMap<>();
		history.forEach((entry) -> named.put(entry.id(), entry.value()));
		Set<Value> committed = new HashSet<>(history.stream().map(Value::of).toList());
		Set<Value> renamed = new LinkedHashSet<>();
		Set<Value> lost = new LinkedHashSet<>();
		Set<Value> fromTheCutOff = new LinkedHashSet<>();
		for (StreamRecord client : this.clients.records) {
			List<Entry> received = client.values();
			assertThat(received).as("values of a client in %s", this.run).isNotEmpty();
			for (int i = 0; i < received.size(); i++) {
				Value value = Value.of(received.get(i));
				if (i > 0) {
					assertThat(value.id()).as("id after %s on a client's stream in %s", received.get(i - 1), this.run)
						.isGreaterThan(received.get(i - 1).id());
				}
				Integer other = named.putIfAbsent(value.id(), value.value());
				if (other != null && other != value.value()) {
					renamed.add(value);
				}
				if (!committed.contains(value)) {
					lost.add(value);
				}
				if (cutOff.contains(value)) {
					fromTheCutOff.add(value);
				}
			}
		}
		assertThat(renamed)
			.as("values clients received under an id that names another value, in %s; around them "
					+ "the history holds %s", this.run, around(history, renamed))
			.isEmpty();
		assertThat(lost)
			.as("values clients received that the history of the last primary lacks, in %s; around "
					+ "them it holds %s", this.run, around(history, lost))
			.isEmpty();
		assertThat(fromTheCutOff).as("values clients received that the paused primary held alone, in %s", this.run)
			.isEmpty();
		// And none missed: each client's values are the history's, from its first to its
		// last
		for (StreamRecord client : this.clients.records) {
			StreamRecord.assertFollowed(client.values(), history);
		}
	}

	// The entries of the history next to some values, by id
	private static List<Entry> around(List<Entry> history, Set<Value> values) {
		Set<Entry> near = new LinkedHashSet<>();
		for (Value value : values) {
			for (int i = 0; i < history.size(); i++) {
				if (Math.abs(history.get(i).id() - value.id()) <= PERIOD.multipliedBy(4).toMillis()) {
					near.add(history.get(i));
				}
			}
		}
		return List.copyOf(near);
	}

	// The longest gap between the ids of two values of the history (the times the leader
	// appended them), from the first failure on, against the longest of the failovers as
	// measured (Sentinel's detection and promotion), the lease and a period; and the
	// longest a client waited between two values, against the same and one more period:
	// the first value on a new primary keeps the id it was appended with while it waits
	// for the other replica to follow that primary, and is tried again a period later
	private void assertGapsWithinBound(String what, List<Duration> failovers) {
		List<Entry> during = this.cluster.history().stream().filter((entry) -> entry.id() >= this.from).toList();
		long longestGap = ClusterLeadershipIT.longestGap(during);
		List<Long> gaps = new ArrayList<>();
		for (int i = 1; i < during.size(); i++) {
			long gap = during.get(i).id() - during.get(i - 1).id();
			if (gap > PERIOD.multipliedBy(2).toMillis()) {
				gaps.add(gap);
			}
		}
		Duration longestFailover = Collections.max(failovers);
		Duration bound = longestFailover.plus(LEASE).plus(PERIOD).plus(ClusterInstances.MARGIN);
		Duration longestWait = this.clients.longestWait();
		logger.info(
				"{} took {} ms (from the failure or the request, down-after-milliseconds {}); the gaps of more than "
						+ "two periods between the ids of two values were {} ms, the longest {} ms, within {} ms; "
						+ "the longest a client waited between two values was {} ms",
				what, failovers.stream().map(Duration::toMillis).toList(), RedisSentinelSet.DOWN_AFTER.toMillis(), gaps,
				longestGap, bound.toMillis(), longestWait.toMillis());
		assertThat(longestGap).as("the longest gap between two values in %s", this.run)
			.isLessThanOrEqualTo(bound.toMillis());
		assertThat(longestWait).as("the longest a client waited between two values in %s", this.run)
			.isLessThanOrEqualTo(bound.plus(PERIOD));
	}

	/**
	 * One round of a test: a failure at a moment drawn from the test's seed, and the
	 * values that pace the next round.
	 */
	@FunctionalInterface
	private interface Round {

		/**
		 * Make the failure of a round and await the values after it.
		 * @param round the number of the round, from 1
		 * @param context the round and the seed, for the descriptions of the awaits
		 * @throws Exception if the failure or an await fails
		 */
		void fail(int round, String context) throws Exception;

	}

	/**
	 * A value by its id, whoever wrote it.
	 *
	 * @param id its event id
	 * @param value the value
	 */
	private record Value(long id, int value) {

		static Value of(Entry entry) {
			return new Value(entry.id(), entry.value());
		}

	}

	/**
	 * A stream client on each instance, each opening its stream again with
	 * {@code Last-Event-ID} whenever it ends.
	 */
	private static final class Clients implements AutoCloseable {

		private final List<StreamRecord> records;

		private Clients(List<StreamRecord> records) {
			this.records = records;
		}

		static Clients open(ClusterInstances cluster) throws Exception {
			cluster.awaitLeader(ServiceProcess.STARTUP_TIMEOUT);
			cluster.awaitHistory(3, PERIOD);
			List<StreamRecord> records = new ArrayList<>();
			for (ServiceProcess instance : cluster.all()) {
				records.add(StreamRecord.openResuming(instance));
			}
			return new Clients(records);
		}

		// Three more values, and every client has the last of them
		void awaitAtTheEndOf(ClusterInstances cluster) {
			cluster.awaitHistory(cluster.history().size() + 3, PERIOD);
			long last = ClusterInstances.last(cluster.history()).id();
			await("every client at the last value of the history").atMost(GOING_ON)
				.pollInterval(Duration.ofMillis(50))
				.until(() -> this.records.stream()
					.allMatch((record) -> !record.values().isEmpty() && record.lastId() >= last));
			this.records.forEach((record) -> logger.info("A client resumed its stream {} time(s)", record.resumed()));
		}

		// The longest any client waited between two values
		Duration longestWait() {
			return this.records.stream().map(StreamRecord::longestWait).max(Duration::compareTo).orElse(Duration.ZERO);
		}

		@Override
		public void close() {
			this.records.forEach(StreamRecord::close);
		}

	}

}

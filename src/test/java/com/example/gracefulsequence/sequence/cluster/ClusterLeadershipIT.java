package com.example.gracefulsequence.sequence.cluster;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import com.example.gracefulsequence.HttpConnection.Response;
import com.example.gracefulsequence.ServiceProcess;
import com.example.gracefulsequence.sequence.cluster.ClusterInstances.Entry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Who produces the cluster's sequence, with the packaged jar and a real Redis: the lead
 * handed over inside the graceful shutdown, taken after a crash, and fenced against a
 * leader that was paused past its lease. The cluster's history in Redis is the record:
 * one writer per position, ids that only increase, and gaps within their bounds.
 *
 * @author graceful-sequence contributors
 */
class ClusterLeadershipIT {

	private static final Duration PERIOD = Duration.ofSeconds(1);

	private static final Duration LEASE = Duration.ofSeconds(3);

	private static final long SEED = 42;

	private static final Duration STARTUP = ServiceProcess.STARTUP_TIMEOUT;

	private static final JsonMapper json = JsonMapper.builder().build();

	private static String[] arguments(String... more) {
		List<String> arguments = new ArrayList<>(List.of("--sequence.period=" + PERIOD.toMillis() + "ms",
				"--sequence.seed=" + SEED, "--sequence.cluster.lease=" + LEASE.toMillis() + "ms"));
		arguments.addAll(List.of(more));
		return arguments.toArray(String[]::new);
	}

	@Test
	void whenTheLeaderIsToldToStopThenAFollowerProducesTheNextValueOnTimeAndTheLeaverServesItsDrain(
			@TempDir Path directory) throws Exception {
		try (ClusterInstances cluster = ClusterInstances.startWithRedis(directory, 3,
				arguments("--shutdown.drain-delay=3s"))) {
			ServiceProcess leader = awaitLeaderAndValues(cluster, 3);
			String leaderLease = ClusterInstances.last(cluster.history()).lease();
			leader.sigterm();
			await("readiness down").atMost(Duration.ofSeconds(10)).until(() -> leader.status("/readyz") == 503);
			// Sent during the drain delay: the leaver keeps following the new leader
			Response poll = leader.get("/sequence/next?timeout=5s");
			assertThat(poll.status()).isEqualTo(200);
			long polledIndex = json.readTree(poll.body()).at("/index").asLong();
			assertThat(leader.awaitExit(Duration.ofSeconds(30))).isEqualTo(143);
			ServiceProcess next = cluster.awaitLeader(Duration.ofSeconds(10));
			assertThat(next).isNotSameAs(leader);
			cluster.awaitHistory((int) polledIndex + 3, PERIOD);
			List<Entry> history = cluster.history();
			assertThat(entryAt(history, polledIndex).lease()).isNotEqualTo(leaderLease);
			assertOneWriterPerPosition(history);
			assertThat(longestGap(history)).isLessThanOrEqualTo(PERIOD.plus(ClusterInstances.MARGIN).toMillis());
			assertSeededSequence(history);
			assertThat(leader.messages())
				.anyMatch((message) -> message.startsWith("Handed the lead of the cluster's sequence over"));
			assertStateFileHoldsLastReceived(leader);
			for (ServiceProcess follower : cluster.all()) {
				if (follower != leader) {
					follower.sigterm();
					assertThat(follower.awaitExit(Duration.ofSeconds(30))).isEqualTo(143);
					assertStateFileHoldsLastReceived(follower);
				}
			}
		}
	}

	@Test
	void whenTheLeaderIsKilledThenAnotherLeadsWithinTheLeaseAndAPeriod(@TempDir Path directory) throws Exception {
		try (ClusterInstances cluster = ClusterInstances.startWithRedis(directory, 2, arguments())) {
			ServiceProcess leader = awaitLeaderAndValues(cluster, 3);
			int before = cluster.history().size();
			leader.sigkill();
			leader.awaitExit(Duration.ofSeconds(10));
			assertThat(cluster.awaitLeader(LEASE.plus(PERIOD).plusSeconds(2))).isNotSameAs(leader);
			cluster.awaitHistory(before + 3, PERIOD);
			List<Entry> history = cluster.history();
			assertOneWriterPerPosition(history);
			assertThat(longestGap(history))
				.isLessThanOrEqualTo(LEASE.plus(PERIOD).plus(ClusterInstances.MARGIN).toMillis());
			assertSeededSequence(history);
		}
	}

	@Test
	void whenAPausedLeaderWakesPastItsLeaseThenItsWriteIsRefusedAndItFollows(@TempDir Path directory) throws Exception {
		try (ClusterInstances cluster = ClusterInstances.startWithRedis(directory, 2, arguments())) {
			ServiceProcess leader = awaitLeaderAndValues(cluster, 3);
			String pausedLease = ClusterInstances.last(cluster.history()).lease();
			leader.sigstop();
			try {
				await("another leader's values").atMost(LEASE.plus(PERIOD.multipliedBy(4)).plusSeconds(5))
					.pollInterval(Duration.ofMillis(100))
					.until(() -> cluster.history()
						.stream()
						.filter((entry) -> !entry.lease().equals(pausedLease))
						.count() >= 2);
			}
			finally {
				leader.sigcont();
			}
			leader.awaitMessage("the lost lead",
					(message) -> message.startsWith("Lost the lead of the cluster's sequence"), Duration.ofSeconds(10));
			int size = cluster.history().size();
			cluster.awaitHistory(size + 2, PERIOD);
			List<Entry> history = cluster.history();
			assertOneWriterPerPosition(history);
			// Once another leader wrote, the paused one never wrote again
			int firstOfOthers = history.indexOf(
					history.stream().filter((entry) -> !entry.lease().equals(pausedLease)).findFirst().orElseThrow());
			assertThat(history.subList(firstOfOthers, history.size()))
				.noneMatch((entry) -> entry.lease().equals(pausedLease));
			assertThat(leader.messages()).filteredOn((message) -> message.startsWith("Lost the lead")).hasSize(1);
			assertThat(leader.isAlive()).isTrue();
			assertThat(ClusterInstances.leads(leader)).isFalse();
			assertSeededSequence(history);
		}
	}

	@Test
	void whenTheLastInstanceStopsItGoesOnProducingThroughItsDrainAndItsStateFileHoldsItsLastValue(
			@TempDir Path directory) throws Exception {
		try (ClusterInstances cluster = ClusterInstances.startWithRedis(directory, 1,
				arguments("--shutdown.drain-delay=3s"))) {
			ServiceProcess alone = awaitLeaderAndValues(cluster, 2);
			int before = cluster.history().size();
			alone.sigterm();
			alone.awaitMessage("the handover step", (message) -> message.startsWith("Nothing to hand over to"),
					Duration.ofSeconds(10));
			// Values during the drain delay, from the instance that is leaving
			cluster.awaitHistory(before + 2, PERIOD);
			assertThat(alone.awaitExit(Duration.ofSeconds(30))).isEqualTo(143);
			assertStateFileHoldsLastReceived(alone);
			assertThat(ClusterInstances.last(cluster.history()).value())
				.isEqualTo(alone.receivedValues().get(alone.receivedValues().size() - 1));
		}
	}

	@Test
	void whenASingleInstanceMovesToClusterModeTheFirstLeaderCarriesItsLastValueOver(@TempDir Path directory)
			throws Exception {
		Path instance = Files.createDirectories(directory.resolve("instance-1"));
		int saved;
		try (ServiceProcess local = ServiceProcess.start(instance, arguments())) {
			local.awaitReady();
			local.awaitPublished(2, Duration.ofSeconds(30));
			local.sigterm();
			assertThat(local.awaitExit(Duration.ofSeconds(30))).isEqualTo(143);
			saved = local.receivedValues().get(local.receivedValues().size() - 1);
		}
		try (ClusterInstances cluster = ClusterInstances.startWithRedis(directory, 1, arguments())) {
			awaitLeaderAndValues(cluster, 2);
			Entry carried = cluster.history().get(0);
			assertThat(carried.index()).isZero();
			assertThat(carried.value()).isEqualTo(saved);
			assertThat(cluster.history().get(1).index()).isEqualTo(1);
			assertOneWriterPerPosition(cluster.history().subList(1, cluster.history().size()));
		}
	}

	// The leader, once the cluster's history holds a number of values
	private static ServiceProcess awaitLeaderAndValues(ClusterInstances cluster, int values) {
		ServiceProcess leader = cluster.awaitLeader(STARTUP);
		cluster.awaitHistory(values, PERIOD);
		return leader;
	}

	private static Entry entryAt(List<Entry> history, long index) {
		return history.stream().filter((entry) -> entry.index() == index).findFirst().orElseThrow();
	}

	// Each position once, in order, ids increasing
	static void assertOneWriterPerPosition(List<Entry> history) {
		for (int i = 1; i < history.size(); i++) {
			assertThat(history.get(i).index()).as("position after %s", history.get(i - 1))
				.isEqualTo(history.get(i - 1).index() + 1);
			assertThat(history.get(i).id()).isGreaterThan(history.get(i - 1).id());
		}
	}

	static long longestGap(List<Entry> history) {
		long longest = 0;
		for (int i = 1; i < history.size(); i++) {
			longest = Math.max(longest, history.get(i).id() - history.get(i - 1).id());
		}
		return longest;
	}

	// The sequence one instance with the seed produces alone, across every leader
	private static void assertSeededSequence(List<Entry> history) {
		SplittableRandom random = new SplittableRandom(SEED);
		long position = 0;
		for (Entry entry : history) {
			while (position < entry.index()) {
				int expected = random.nextInt(120);
				position++;
				if (position == entry.index()) {
					assertThat(entry.value()).as("value at position %d", position).isEqualTo(expected);
				}
			}
		}
	}

	private static void assertStateFileHoldsLastReceived(ServiceProcess instance) throws Exception {
		List<Integer> received = instance.receivedValues();
		assertThat(received).isNotEmpty();
		assertThat(Files.readString(instance.stateFile()))
			.isEqualTo("Last number from random sequence: " + received.get(received.size() - 1) + "\n");
	}

}

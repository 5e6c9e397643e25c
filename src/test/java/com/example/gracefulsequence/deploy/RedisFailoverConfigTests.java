package com.example.gracefulsequence.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.example.gracefulsequence.sequence.cluster.RedisSentinel;
import com.example.gracefulsequence.sequence.cluster.RedisServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The shipped settings of a Redis that fails over: {@code deploy/redis/sentinel.conf},
 * and the lines of {@code deploy/redis/redis.conf} for a primary with replicas, which
 * that file gives as comments since a lone Redis must not have them. Read as text, and,
 * where {@code redis-server} and {@code redis-sentinel} are installed, given to them: a
 * primary with those lines refuses writes until a replica is in sync, and a Sentinel
 * started with the shipped file watches it with the quorum and timings the file says.
 *
 * @author graceful-sequence contributors
 */
class RedisFailoverConfigTests {

	private static final Duration STARTED = Duration.ofSeconds(30);

	// What Sentinel's SENTINEL MASTER calls them, against the file's options
	private static final List<String> TIMINGS = List.of("down-after-milliseconds", "failover-timeout",
			"parallel-syncs");

	@TempDir
	Path directory;

	@Test
	void sentinelsFailOverWithTwoOfThreeAgreeingAfterFiveSecondsWithoutAnAnswer() throws IOException {
		SentinelConfig sentinel = SentinelConfig.read();
		assertThat(sentinel.primary()).isEqualTo("graceful-sequence");
		assertThat(sentinel.quorum()).as("of three Sentinels: one alone cannot start a failover").isEqualTo(2);
		assertThat(sentinel.option("down-after-milliseconds")).as("Redis' default: 30000").contains("5000");
		assertThat(sentinel.option("failover-timeout")).as("Redis' default: 180000").contains("10000");
		assertThat(sentinel.option("parallel-syncs")).contains("1");
		assertThat(sentinel.port()).isEqualTo(SentinelConfig.DEFAULT_PORT);
		assertThat(sentinel.directive("resolve-hostnames")).as("the primary named by its host").contains("yes");
	}

	@Test
	void aPrimaryWithReplicasRefusesWritesWithoutOneAndEveryNodeHasTheSamePriority() throws IOException {
		String text = Files.readString(RedisConfig.SHIPPED);
		RedisConfig replication = RedisConfig.shippedReplication();
		assertThat(replication.get("min-replicas-to-write")).contains("1");
		assertThat(replication.get("min-replicas-max-lag")).as("seconds; replicas acknowledge every second")
			.contains("10");
		assertThat(replication.get("replica-priority")).as("Redis' default, the same on every node").contains("100");
		assertThat(RedisConfig.parse(text).directives()).as("a lone Redis (bench/cluster.sh, the Kubernetes one)")
			.doesNotContainKeys("min-replicas-to-write", "replicaof");
	}

	@Test
	void aPrimaryWithTheseLinesWaitsForAReplicaAndASentinelWatchesItAsTheFileSays() throws Exception {
		List<String> arguments = RedisConfig.shippedReplication().arguments();
		try (RedisServer primary = RedisServer.start(this.directory.resolve("primary"),
				arguments.toArray(String[]::new))) {
			assertThat(reply(primary, "SET", "graceful-sequence-test", "1")).as("no replica yet")
				.contains("NOREPLICAS");
			List<String> replicaArguments = new ArrayList<>(arguments);
			replicaArguments.addAll(List.of("--replicaof", RedisServer.HOST, Integer.toString(primary.port())));
			try (RedisServer replica = RedisServer.start(this.directory.resolve("replica"),
					replicaArguments.toArray(String[]::new))) {
				// Taken once the replica is in sync (a WAIT from redis-cli would prove
				// nothing:
				// it counts the writes of its own connection, which has none)
				await("a write taken once a replica is in sync").atMost(STARTED)
					.pollInterval(Duration.ofMillis(100))
					.until(() -> reply(primary, "SET", "graceful-sequence-test", "2").equals("OK"));
				await("the write on the replica").atMost(STARTED)
					.until(() -> replica.cli("GET", "graceful-sequence-test").equals("2"));
				assertSentinelWatches(primary);
			}
		}
	}

	private void assertSentinelWatches(RedisServer primary) throws Exception {
		SentinelConfig shipped = SentinelConfig.read();
		try (RedisSentinel sentinel = RedisSentinel.start(this.directory.resolve("sentinel"), shipped,
				primary.port())) {
			Map<String, String> master = new LinkedHashMap<>();
			await("Sentinel watching the primary and its replica").atMost(STARTED)
				.pollInterval(Duration.ofMillis(200))
				.until(() -> {
					master.clear();
					master.putAll(sentinel.primary(shipped.primary()));
					return "1".equals(master.get("num-slaves"));
				});
			assertThat(master).containsEntry("name", shipped.primary())
				.containsEntry("port", Integer.toString(primary.port()))
				.containsEntry("quorum", Integer.toString(shipped.quorum()))
				.containsEntry("flags", "master");
			for (String timing : TIMINGS) {
				assertThat(master).containsEntry(timing, shipped.option(timing).orElseThrow());
			}
		}
	}

	// An error reply as text, whether or not this redis-cli exits with a failure for it
	private static String reply(RedisServer redis, String... command) {
		try {
			return redis.cli(command);
		}
		catch (AssertionError ex) {
			return String.valueOf(ex.getMessage());
		}
	}

}

package com.example.gracefulsequence.sequence.cluster;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.example.gracefulsequence.ServiceProcess;
import com.example.gracefulsequence.sequence.cluster.ClusterInstances.Entry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Cluster mode on a Sentinel set, configured with Spring Boot's own
 * {@code spring.data.redis.sentinel.*} properties and nothing of the service's: when the
 * primary is killed, Lettuce reconnects to the replica the Sentinels promoted; when it is
 * paused, the instances' calls time out, they give up on it and go on with the promoted
 * one. Both instances go on receiving the sequence, from the new primary.
 *
 * @author graceful-sequence contributors
 */
class ClusterSentinelIT {

	private static final Logger logger = LoggerFactory.getLogger(ClusterSentinelIT.class);

	private static final Duration PERIOD = Duration.ofMillis(500);

	private static final Duration LEASE = Duration.ofSeconds(2);

	private static final String[] ARGUMENTS = { "--sequence.period=" + PERIOD.toMillis() + "ms",
			"--sequence.cluster.lease=" + LEASE.toMillis() + "ms", "--sequence.stream.replay=1000" };

	private static final Duration PROMOTION = Duration.ofSeconds(30);

	// Sentinel turns a paused primary that continues into a replica after it has
	// reported its role for eight seconds, on an INFO that it asks every ten
	private static final Duration SETTLE = Duration.ofSeconds(60);

	// A new connection, through the Sentinels, to the promoted replica; the lease; a
	// period; and room for a busy two-core machine
	private static final Duration GOING_ON = LEASE.plus(PERIOD.multipliedBy(3)).plusSeconds(20);

	private static final int VALUES_AFTER = 3;

	@Test
	void whenThePrimaryIsKilledThenBothInstancesGoOnWithTheReplicaTheSentinelsPromoted(@TempDir Path directory)
			throws Exception {
		try (RedisSentinelSet redis = RedisSentinelSet.start(directory.resolve("redis"));
				ClusterInstances cluster = ClusterInstances.startWithSentinels(redis, directory, 2, ARGUMENTS)) {
			cluster.awaitLeader(ServiceProcess.STARTUP_TIMEOUT);
			cluster.awaitHistory(3, PERIOD);
			List<StreamRecord> streams = StreamRecord.openOnEach(cluster);
			try {
				long killedAt = System.currentTimeMillis();
				RedisServer killed = redis.killPrimary();
				RedisServer promoted = redis.awaitPromotion(killed, PROMOTION);
				awaitGoingOn(streams, promoted, killedAt, "kill -9");
				redis.restartAsReplica(killed);
				assertThat(redis.awaitSettled(SETTLE)).isSameAs(promoted);
				awaitGoingOn(streams, promoted, System.currentTimeMillis(), "the old primary's return");
				assertThat(streams).noneMatch(StreamRecord::ended);
			}
			finally {
				streams.forEach(StreamRecord::close);
			}
		}
	}

	@Test
	void whenThePrimaryIsPausedThenBothInstancesGiveUpOnItAndGoOnWithTheReplicaTheSentinelsPromoted(
			@TempDir Path directory) throws Exception {
		try (RedisSentinelSet redis = RedisSentinelSet.start(directory.resolve("redis"));
				ClusterInstances cluster = ClusterInstances.startWithSentinels(redis, directory, 2, ARGUMENTS)) {
			cluster.awaitLeader(ServiceProcess.STARTUP_TIMEOUT);
			cluster.awaitHistory(3, PERIOD);
			List<StreamRecord> streams = StreamRecord.openOnEach(cluster);
			try {
				long stoppedAt = System.currentTimeMillis();
				RedisServer stopped = redis.stopPrimary();
				RedisServer promoted;
				try {
					promoted = redis.awaitPromotion(stopped, PROMOTION);
					// While the old primary still stands still, its connections open
					awaitGoingOn(streams, promoted, stoppedAt, "SIGSTOP");
				}
				finally {
					stopped.resume();
				}
				assertThat(redis.awaitSettled(SETTLE)).isSameAs(promoted);
				assertThat(stopped.replication()).containsEntry("role", "slave")
					.containsEntry("master_port", Integer.toString(promoted.port()));
				awaitGoingOn(streams, promoted, System.currentTimeMillis(), "the old primary's return");
				assertThat(streams).noneMatch(StreamRecord::ended);
			}
			finally {
				streams.forEach(StreamRecord::close);
			}
		}
	}

	// Every stream receives values from after the moment, each as the promoted primary
	// holds it: the instances write to it and read from it
	private static void awaitGoingOn(List<StreamRecord> streams, RedisServer primary, long since, String after) {
		await(VALUES_AFTER + " values after " + after + " on every stream, from the promoted primary").atMost(GOING_ON)
			.pollInterval(Duration.ofMillis(100))
			.ignoreExceptions()
			.untilAsserted(() -> {
				Map<Long, Integer> history = new HashMap<>();
				ClusterInstances.history(primary).forEach((entry) -> history.put(entry.id(), entry.value()));
				for (StreamRecord stream : streams) {
					List<Entry> received = stream.values().stream().filter((entry) -> entry.id() > since).toList();
					assertThat(received).hasSizeGreaterThanOrEqualTo(VALUES_AFTER);
					for (Entry entry : received) {
						assertThat(history).containsEntry(entry.id(), entry.value());
					}
				}
			});
		for (StreamRecord stream : streams) {
			long first = stream.values().stream().filter((entry) -> entry.id() > since).findFirst().orElseThrow().id();
			logger.info("A stream received the first value after {} {} ms after it", after, first - since);
		}
	}

}

package com.example.gracefulsequence.sequence.cluster;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

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

	private RedisSentinelSet redis;

	private ClusterInstances cluster;

	private List<StreamRecord> streams;

	@BeforeEach
	void start(@TempDir Path directory) throws Exception {
		this.redis = RedisSentinelSet.start(directory.resolve("redis"));
		this.cluster = ClusterInstances.startWithSentinels(this.redis, directory, 2, ARGUMENTS);
		this.cluster.awaitLeader(ServiceProcess.STARTUP_TIMEOUT);
		this.cluster.awaitHistory(3, PERIOD);
		this.streams = StreamRecord.openOnEach(this.cluster);
	}

	@AfterEach
	void stop() {
		if (this.streams != null) {
			this.streams.forEach(StreamRecord::close);
		}
		if (this.cluster != null) {
			this.cluster.close();
		}
		if (this.redis != null) {
			this.redis.close();
		}
	}

	@Test
	void whenThePrimaryIsKilledThenBothInstancesGoOnWithTheReplicaTheSentinelsPromoted() throws Exception {
		long killedAt = System.currentTimeMillis();
		RedisServer killed = this.redis.killPrimary();
		RedisServer promoted = this.redis.awaitPromotion(killed, PROMOTION);
		awaitGoingOn(this.streams, promoted, killedAt, "kill -9");
		// Each instance found the new primary, once: what the failover alert counts
		assertThat(this.cluster.all())
			.allSatisfy((instance) -> assertThat(instance.meter("sequence.cluster.redis.failovers"))
				.as("sequence.cluster.redis.failovers of the instance on port %d", instance.port())
				.isEqualTo(1.0));
		this.redis.restartAsReplica(killed);
		assertThat(this.redis.awaitSettled(SETTLE)).isSameAs(promoted);
		awaitGoingOn(this.streams, promoted, System.currentTimeMillis(), "the old primary's return");
		assertThat(this.streams).noneMatch(StreamRecord::ended);
	}

	@Test
	void whenThePrimaryIsPausedThenBothInstancesGiveUpOnItAndGoOnWithTheReplicaTheSentinelsPromoted() throws Exception {
		long stoppedAt = System.currentTimeMillis();
		RedisServer stopped = this.redis.stopPrimary();
		RedisServer promoted;
		try {
			promoted = this.redis.awaitPromotion(stopped, PROMOTION);
			// While the old primary still stands still, its connections open
			awaitGoingOn(this.streams, promoted, stoppedAt, "SIGSTOP");
		}
		finally {
			stopped.resume();
		}
		assertThat(this.redis.awaitSettled(SETTLE)).isSameAs(promoted);
		assertThat(stopped.replication()).containsEntry("role", "slave")
			.containsEntry("master_port", Integer.toString(promoted.port()));
		awaitGoingOn(this.streams, promoted, System.currentTimeMillis(), "the old primary's return");
		assertThat(this.streams).noneMatch(StreamRecord::ended);
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

package com.example.gracefulsequence.sequence.cluster;

import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Sentinel fixture does what the failover tests rely on: a primary killed or paused
 * is replaced by a replica that holds what the primary had sent it, the old primary comes
 * back as a replica of the new one (restarted after a crash, or reconfigured by the
 * Sentinels once it continues), and a primary cut off from its replicas takes no write.
 *
 * @author graceful-sequence contributors
 */
class RedisSentinelSetIT {

	private static final Duration PROMOTION = Duration.ofSeconds(30);

	// Sentinel turns a primary that comes back into a replica only after it has reported
	// its role for eight seconds, on an INFO that it asks every ten
	private static final Duration SETTLE = Duration.ofSeconds(60);

	@Test
	void whenThePrimaryIsKilledTheSentinelsPromoteAReplicaAndTheRestartedPrimaryRejoinsAsAReplica(
			@TempDir Path directory) throws Exception {
		try (RedisSentinelSet set = RedisSentinelSet.start(directory)) {
			RedisServer primary = set.primary();
			assertThat(primary.cli("SET", "before", "the crash")).isEqualTo("OK");
			assertThat(primary.cli("WAIT", "2", "5000")).as("replicas that acknowledged the write").isEqualTo("2");
			RedisServer killed = set.killPrimary();
			assertThat(killed).isSameAs(primary);
			RedisServer promoted = set.awaitPromotion(killed, PROMOTION);
			assertThat(promoted).isNotSameAs(killed);
			assertThat(promoted.cli("GET", "before")).isEqualTo("the crash");
			// One replica left, and min-replicas-to-write is 1
			assertThat(promoted.cli("SET", "after", "the promotion")).isEqualTo("OK");
			set.restartAsReplica(killed);
			assertThat(set.awaitSettled(SETTLE)).isSameAs(promoted);
			assertThat(killed.replication()).containsEntry("role", "slave")
				.containsEntry("master_port", Integer.toString(promoted.port()));
			assertThat(killed.cli("GET", "after")).isEqualTo("the promotion");
			assertThat(set.promotions()).singleElement()
				.satisfies((promotion) -> assertThat(promotion).isGreaterThan(RedisSentinelSet.DOWN_AFTER));
		}
	}

	@Test
	void whenThePrimaryIsPausedTheSentinelsPromoteAReplicaAndTurnTheOldPrimaryIntoOneWhenItContinues(
			@TempDir Path directory) throws Exception {
		try (RedisSentinelSet set = RedisSentinelSet.start(directory)) {
			RedisServer stopped = set.stopPrimary();
			RedisServer promoted;
			try {
				promoted = set.awaitPromotion(stopped, PROMOTION);
				assertThat(promoted.cli("SET", "during", "the pause")).isEqualTo("OK");
			}
			finally {
				stopped.resume();
			}
			assertThat(set.awaitSettled(SETTLE)).isSameAs(promoted);
			assertThat(stopped.replication()).containsEntry("role", "slave")
				.containsEntry("master_port", Integer.toString(promoted.port()));
			assertThat(stopped.cli("GET", "during")).isEqualTo("the pause");
		}
	}

	@Test
	void aPrimaryWithoutAReplicaRefusesWrites(@TempDir Path directory) throws Exception {
		try (RedisSentinelSet set = RedisSentinelSet.start(directory)) {
			RedisServer primary = set.primary();
			for (RedisServer server : set.servers()) {
				if (server != primary) {
					server.kill();
				}
			}
			assertThat(primary.cli("SET", "alone", "yes")).startsWith("NOREPLICAS");
			assertThat(primary.cli("GET", "alone")).isEmpty();
		}
	}

}

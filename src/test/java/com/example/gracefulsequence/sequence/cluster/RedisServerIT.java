package com.example.gracefulsequence.sequence.cluster;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The Redis fixture does what the cluster mode's tests rely on: its data survives a
 * restart and is gone after an empty one, a paused server answers nothing until it is
 * resumed, a replica follows its primary, clients are counted and cut, and a server that
 * cannot start says why at once.
 *
 * @author graceful-sequence contributors
 */
class RedisServerIT {

	private static final Duration WAIT = Duration.ofSeconds(10);

	@TempDir
	Path directory;

	@Test
	void whatWasWrittenSurvivesARestartInTheAppendOnlyFileAndIsGoneAfterAnEmptyRestart() throws Exception {
		try (RedisServer redis = RedisServer.start(this.directory.resolve("redis"))) {
			assertThat(redis.cli("SET", "{sequence}:last", "42")).isEqualTo("OK");
			long firstPid = redis.pid();
			redis.restart();
			assertThat(redis.pid()).isNotEqualTo(firstPid);
			assertThat(redis.cli("GET", "{sequence}:last")).isEqualTo("42");
			assertThat(redis.directory().resolve("appendonlydir")).isNotEmptyDirectory();
			redis.restartEmpty();
			assertThat(redis.cli("GET", "{sequence}:last")).isEmpty();
			assertThat(redis.cli("DBSIZE")).isEqualTo("0");
		}
	}

	@Test
	void aPausedServerAnswersNoPingUntilItIsResumed() throws Exception {
		try (RedisServer redis = RedisServer.start(this.directory.resolve("redis"))) {
			redis.pause();
			assertThat(redis.ping(Duration.ofMillis(300))).as("PING while paused").isFalse();
			assertThat(redis.isAlive()).isTrue();
			redis.resume();
			assertThat(redis.ping(WAIT)).as("PING once resumed").isTrue();
		}
	}

	@Test
	void killClientsCutsEveryClientButReplicasAndCountsThem() throws Exception {
		try (RedisServer primary = RedisServer.start(this.directory.resolve("primary"));
				RedisServer replica = RedisServer.start(this.directory.resolve("replica"), "--replicaof",
						RedisServer.HOST, Integer.toString(primary.port()));
				Socket client = new Socket()) {
			await("the replica in sync").atMost(WAIT)
				.until(() -> replica.cli("INFO", "replication").contains("master_link_status:up"));
			client.connect(new InetSocketAddress(RedisServer.HOST, primary.port()), 1000);
			client.setSoTimeout((int) WAIT.toMillis());
			await("the client counted").atMost(WAIT).untilAsserted(() -> assertThat(primary.clientNames()).hasSize(1));
			assertThat(primary.killClients()).isOne();
			InputStream in = client.getInputStream();
			assertThat(in.read()).as("the client's connection is closed").isEqualTo(-1);
			assertThat(primary.connectedClients()).isZero();
			assertThat(primary.cli("SET", "after", "cut")).isEqualTo("OK");
			await("the replica still following").atMost(WAIT).until(() -> replica.cli("GET", "after").equals("cut"));
		}
	}

	@Test
	void aServerThatCannotStartFailsAtOnceWithWhatRedisSaid() {
		assertThatThrownBy(() -> RedisServer.start(this.directory.resolve("redis"), "--no-such-directive", "x"))
			.hasStackTraceContaining("redis-server exited with 1")
			.hasStackTraceContaining("Bad directive or wrong number of arguments");
	}

}

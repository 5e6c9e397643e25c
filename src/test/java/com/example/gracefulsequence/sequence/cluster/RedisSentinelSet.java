package com.example.gracefulsequence.sequence.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import com.example.gracefulsequence.deploy.RedisConfig;
import com.example.gracefulsequence.deploy.SentinelConfig;
import org.awaitility.core.ConditionTimeoutException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.awaitility.Awaitility.await;

/**
 * A Redis primary with two replicas and three Sentinels that watch it, every process on a
 * free loopback port in a directory of its own, for the cluster mode's failover tests:
 * the primary can be killed, paused or failed over while it runs, the Sentinels promote a
 * replica, and the old primary comes back as a replica. Closing the set kills every
 * process it started, by handle.
 * <p>
 * It measures each promotion, from the moment the primary was killed or paused or the
 * failover asked for to the moment all three Sentinels name a new primary that says it is
 * one, and logs it.
 *
 * @author graceful-sequence contributors
 */
final class RedisSentinelSet implements AutoCloseable {

	/**
	 * What the Sentinels run with: the shipped {@code deploy/redis/sentinel.conf}, its
	 * quorum (2 of 3) and its timings, so that the failovers of the tests take as long as
	 * the shipped settings make them, and the tests time them.
	 */
	static final SentinelConfig SHIPPED = SentinelConfig.read();

	/**
	 * The name of the primary, as clients ask the Sentinels for it.
	 */
	static final String MASTER = SHIPPED.primary();

	/**
	 * How long the primary may not answer before a Sentinel finds it down:
	 * {@code down-after-milliseconds} of the shipped file (5 s). Whatever it ships, not
	 * less than two seconds: a Sentinel that switches to a new primary connects to it
	 * within its ping period (a second) and counts the time from the switch, so at one
	 * second it found a healthy new primary down, and, with the other Sentinels' votes on
	 * the old primary still counted (they expire after five seconds), failed it over at
	 * once, while the instances went on writing to it.
	 */
	static final Duration DOWN_AFTER = Duration
		.ofMillis(Long.parseLong(SHIPPED.option("down-after-milliseconds").orElseThrow()));

	private static final Logger logger = LoggerFactory.getLogger(RedisSentinelSet.class);

	// Every data node runs with the lines that deploy/redis/redis.conf gives for a
	// primary with replicas (min-replicas-to-write 1, min-replicas-max-lag 10, the same
	// replica-priority): a primary cut off from its replicas stops taking writes within
	// ten seconds. It bounds what a cut-off primary takes; what a client saw is the
	// commit mark's (WAIT) to keep.
	private static final String[] DURABILITY = RedisConfig.shippedReplication().arguments().toArray(String[]::new);

	private static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(60);

	private static final AtomicInteger sets = new AtomicInteger();

	private final List<RedisServer> servers = new ArrayList<>();

	private final List<RedisSentinel> sentinels = new ArrayList<>();

	private final List<Duration> promotions = new CopyOnWriteArrayList<>();

	private final List<Duration> demotions = new CopyOnWriteArrayList<>();

	private long failedAt;

	private RedisSentinelSet() {
	}

	/**
	 * Start a primary, two replicas of it and three Sentinels, in directories under the
	 * root, and wait until the set has settled.
	 * @param root where their directories go
	 * @return the running set
	 * @throws IOException if a process cannot be started
	 */
	static RedisSentinelSet start(Path root) throws IOException {
		RedisSentinelSet set = new RedisSentinelSet();
		try {
			RedisServer primary = RedisServer.start(root.resolve("redis-1"), DURABILITY);
			set.servers.add(primary);
			for (int i = 2; i <= 3; i++) {
				List<String> arguments = new ArrayList<>(List.of(DURABILITY));
				arguments.addAll(List.of("--replicaof", RedisServer.HOST, Integer.toString(primary.port())));
				set.servers.add(RedisServer.start(root.resolve("redis-" + i), arguments.toArray(String[]::new)));
			}
			for (int i = 1; i <= 3; i++) {
				set.sentinels.add(RedisSentinel.start(root.resolve("sentinel-" + i), SHIPPED, primary.port()));
			}
			set.awaitSettled(SETTLE_TIMEOUT);
		}
		catch (IOException | RuntimeException | Error ex) {
			set.close();
			throw ex;
		}
		return set;
	}

	/**
	 * The arguments that point an instance at the set through Spring Boot's own
	 * properties, and nothing else.
	 * @return {@code spring.data.redis.sentinel.master} and
	 * {@code spring.data.redis.sentinel.nodes}
	 */
	List<String> bootArguments() {
		String nodes = this.sentinels.stream()
			.map((sentinel) -> RedisServer.HOST + ":" + sentinel.port())
			.collect(Collectors.joining(","));
		return List.of("--spring.data.redis.sentinel.master=" + MASTER, "--spring.data.redis.sentinel.nodes=" + nodes);
	}

	/**
	 * The primary as the Sentinels name it to clients
	 * ({@code SENTINEL get-master-addr-by-name}), all three agreeing.
	 * @return the primary
	 * @throws AssertionError if they do not agree
	 */
	RedisServer primary() {
		RedisServer primary = agreedPrimary();
		if (primary == null) {
			throw new AssertionError("The Sentinels do not agree on a primary: " + named());
		}
		return primary;
	}

	private @Nullable RedisServer agreedPrimary() {
		List<Integer> named = named();
		int port = named.get(0);
		return (port >= 0 && Collections.frequency(named, port) == named.size()) ? server(port) : null;
	}

	private List<Integer> named() {
		return this.sentinels.stream().map((sentinel) -> sentinel.primaryPort(MASTER)).toList();
	}

	private @Nullable RedisServer server(int port) {
		return this.servers.stream().filter((server) -> server.port() == port).findFirst().orElse(null);
	}

	/**
	 * Wait until the set has settled: the Sentinels name one primary, know each other and
	 * see it up with two replicas; it says it is the primary and has both replicas
	 * online; each of them says it follows it with its link up.
	 * @param timeout how long to wait at most
	 * @return the primary
	 */
	RedisServer awaitSettled(Duration timeout) {
		RedisServer[] settled = new RedisServer[1];
		awaitOrDescribe("the Sentinel set settled", timeout, () -> {
			settled[0] = settledPrimary();
			return settled[0] != null;
		});
		return settled[0];
	}

	private @Nullable RedisServer settledPrimary() {
		RedisServer primary = agreedPrimary();
		if (primary == null || !primary.isAlive() || primary.isPaused()) {
			return null;
		}
		for (RedisSentinel sentinel : this.sentinels) {
			Map<String, String> seen = sentinel.primary(MASTER);
			// Without the others, a Sentinel cannot win the vote of a failover
			if (!"master".equals(seen.get("flags")) || !"2".equals(seen.get("num-other-sentinels"))
					|| upReplicas(sentinel) < 2) {
				return null;
			}
		}
		Map<String, String> replication = primary.replication();
		if (!"master".equals(replication.get("role")) || !"2".equals(replication.get("connected_slaves"))
				|| !replication.getOrDefault("slave0", "").contains("state=online")
				|| !replication.getOrDefault("slave1", "").contains("state=online")) {
			return null;
		}
		for (RedisServer replica : this.servers) {
			if (replica != primary) {
				Map<String, String> link = replica.replication();
				if (!"slave".equals(link.get("role"))
						|| !Integer.toString(primary.port()).equals(link.get("master_port"))
						|| !"up".equals(link.get("master_link_status"))) {
					return null;
				}
			}
		}
		return primary;
	}

	// The replicas a Sentinel sees up: those it may promote
	private static int upReplicas(RedisSentinel sentinel) {
		List<String> lines = sentinel.cli("SENTINEL", "replicas", MASTER).lines().toList();
		int up = 0;
		for (int i = 0; i + 1 < lines.size(); i++) {
			if (lines.get(i).equals("flags") && lines.get(i + 1).equals("slave")) {
				up++;
			}
		}
		return up;
	}

	/**
	 * Route both replicas to the primary through relays that the test can cut, and wait
	 * until both are in sync through them. The Sentinels set a replica that follows
	 * another address back only a failover timeout after they notice it, on an INFO they
	 * ask every ten seconds: a test that cuts the relays at once has the time of a round.
	 * @param timeout how long to wait at most for the replicas to be in sync
	 * @return the relays, one per replica; closing one cuts the replica's link for good
	 * @throws IOException if a relay cannot listen
	 */
	List<ReplicationRelay> relayReplicas(Duration timeout) throws IOException {
		RedisServer primary = primary();
		List<ReplicationRelay> relays = new ArrayList<>();
		List<RedisServer> replicas = new ArrayList<>();
		try {
			for (RedisServer replica : this.servers) {
				if (replica != primary) {
					ReplicationRelay relay = ReplicationRelay.to(primary.port());
					relays.add(relay);
					replicas.add(replica);
					replica.cli("REPLICAOF", RedisServer.HOST, Integer.toString(relay.port()));
				}
			}
			awaitOrDescribe("both replicas in sync through relays", timeout, () -> {
				for (int i = 0; i < replicas.size(); i++) {
					Map<String, String> link = replicas.get(i).replication();
					if (!Integer.toString(relays.get(i).port()).equals(link.get("master_port"))
							|| !"up".equals(link.get("master_link_status"))) {
						return false;
					}
				}
				Map<String, String> replication = primary.replication();
				return "2".equals(replication.get("connected_slaves"))
						&& replication.getOrDefault("slave0", "").contains("state=online")
						&& replication.getOrDefault("slave1", "").contains("state=online");
			});
		}
		catch (IOException | RuntimeException | Error ex) {
			relays.forEach(ReplicationRelay::close);
			throw ex;
		}
		return relays;
	}

	/**
	 * {@code kill -9} the primary: a crash, with whatever it had not sent to its replicas
	 * lost.
	 * @return the server that was the primary
	 */
	RedisServer killPrimary() {
		RedisServer primary = primary();
		logger.info("Killing the primary on port {}", primary.port());
		this.failedAt = System.nanoTime();
		primary.kill();
		return primary;
	}

	/**
	 * {@code SIGSTOP} the primary: it keeps its connections and answers nothing, as a
	 * machine that hangs or a network that drops its packets;
	 * {@link RedisServer#resume()} sends {@code SIGCONT}.
	 * @return the server that was the primary, paused
	 */
	RedisServer stopPrimary() {
		RedisServer primary = primary();
		logger.info("Stopping the primary on port {}", primary.port());
		this.failedAt = System.nanoTime();
		primary.pause();
		return primary;
	}

	/**
	 * Ask one Sentinel to fail the primary over while it keeps running
	 * ({@code SENTINEL FAILOVER}), as an operator does before maintenance of its machine:
	 * that Sentinel promotes a replica and then moves the other replica to it, without
	 * asking the others; the old primary runs on, with its clients connected, until the
	 * Sentinels turn it into a replica of the new one ({@link #awaitDemoted}).
	 * @param sentinel which Sentinel to ask, from 0 to 2
	 * @return the server that was the primary, still running
	 */
	RedisServer failOverPrimary(int sentinel) {
		RedisServer primary = primary();
		RedisSentinel asked = this.sentinels.get(sentinel);
		logger.info("Asking the Sentinel on port {} to fail the running primary on port {} over", asked.port(),
				primary.port());
		this.failedAt = System.nanoTime();
		String reply = asked.cli("SENTINEL", "FAILOVER", MASTER);
		if (!"OK".equals(reply)) {
			throw new AssertionError("SENTINEL FAILOVER answered " + reply + logTails());
		}
		return primary;
	}

	/**
	 * Wait until a primary that was failed over while it ran is a replica of the new
	 * primary, with its link up. The Sentinels turn it into one once it has reported its
	 * old role for eight seconds, on an INFO they ask every ten, and close its clients'
	 * connections as they do: until then, the instances stay connected to it. The time
	 * from the request ({@link #failOverPrimary}) is logged and kept.
	 * @param former the primary that was failed over
	 * @param primary the promoted server
	 * @param timeout how long to wait at most
	 * @return the time from the request to its demotion, as seen here
	 */
	Duration awaitDemoted(RedisServer former, RedisServer primary, Duration timeout) {
		awaitOrDescribe("port " + former.port() + " a replica of port " + primary.port(), timeout, () -> {
			Map<String, String> link = former.replication();
			return "slave".equals(link.get("role")) && Integer.toString(primary.port()).equals(link.get("master_port"))
					&& "up".equals(link.get("master_link_status"));
		});
		Duration demotion = Duration.ofNanos(System.nanoTime() - this.failedAt);
		this.demotions.add(demotion);
		logger.info("The old primary on port {} follows the new one on port {} {} ms after the failover was asked for",
				former.port(), primary.port(), demotion.toMillis());
		return demotion;
	}

	/**
	 * Wait until the Sentinels have promoted a replica in place of a primary that failed:
	 * all three name another server, and it says it is a primary. The time from the
	 * failure is logged and kept.
	 * @param former the primary that was killed, paused or failed over
	 * @param timeout how long to wait at most
	 * @return the promoted server
	 */
	RedisServer awaitPromotion(RedisServer former, Duration timeout) {
		RedisServer[] promoted = new RedisServer[1];
		awaitOrDescribe("a replica promoted in place of port " + former.port(), timeout, () -> {
			RedisServer primary = agreedPrimary();
			if (primary != null && primary != former && "master".equals(primary.replication().get("role"))) {
				promoted[0] = primary;
				return true;
			}
			return false;
		});
		Duration promotion = Duration.ofNanos(System.nanoTime() - this.failedAt);
		this.promotions.add(promotion);
		logger.info(
				"The Sentinels promoted the replica on port {} {} ms after the primary on port {} failed or was "
						+ "failed over (down-after-milliseconds {})",
				promoted[0].port(), promotion.toMillis(), former.port(), DOWN_AFTER.toMillis());
		return promoted[0];
	}

	/**
	 * Start a primary that was killed again as a replica of the primary of the moment, in
	 * its directory and on its port, as an operator or its supervisor would.
	 * @param former the server that was the primary
	 * @throws IOException if it cannot be started
	 */
	void restartAsReplica(RedisServer former) throws IOException {
		former.restartAsReplicaOf(primary().port());
	}

	/**
	 * The times from a failure of the primary (or a failover asked for) to the promotion
	 * of a replica, as {@link #awaitPromotion} measured them; after a failure, they
	 * include Sentinel's detection ({@link #DOWN_AFTER}).
	 * @return the measured times, in order
	 */
	List<Duration> promotions() {
		return List.copyOf(this.promotions);
	}

	/**
	 * The times from a failover asked for to the old primary following the new one, as
	 * {@link #awaitDemoted} measured them.
	 * @return the measured times, in order
	 */
	List<Duration> demotions() {
		return List.copyOf(this.demotions);
	}

	/**
	 * The Redis servers, the primary and the replicas in no particular order.
	 * @return the servers
	 */
	List<RedisServer> servers() {
		return List.copyOf(this.servers);
	}

	/**
	 * What each process logged last, for failure messages.
	 * @return the tails of the logs
	 */
	String logTails() {
		StringBuilder tails = new StringBuilder();
		for (RedisServer server : this.servers) {
			tails.append("\n--- redis-server on port ").append(server.port()).append(":\n").append(server.logTail());
		}
		for (RedisSentinel sentinel : this.sentinels) {
			tails.append("\n--- redis-sentinel on port ")
				.append(sentinel.port())
				.append(":\n")
				.append(sentinel.logTail());
		}
		return tails.toString();
	}

	private void awaitOrDescribe(String description, Duration timeout, Callable<Boolean> until) {
		try {
			await(description).atMost(timeout).pollInterval(Duration.ofMillis(20)).ignoreExceptions().until(until);
		}
		catch (ConditionTimeoutException ex) {
			throw new AssertionError(ex.getMessage() + logTails(), ex);
		}
	}

	/**
	 * Kill the Sentinels, so that none reconfigures what is left, then the servers, and
	 * keep their logs in {@code target/it-logs}, so that a failed run can be read after
	 * the temporary directory is gone.
	 */
	@Override
	public void close() {
		this.sentinels.forEach(RedisSentinel::close);
		this.servers.forEach(RedisServer::close);
		keepLogs();
	}

	private void keepLogs() {
		String jar = System.getProperty("graceful-sequence.jar");
		if (jar == null) {
			return;
		}
		try {
			Path logs = Files.createDirectories(Path.of(jar)
				.toAbsolutePath()
				.getParent()
				.resolve("it-logs")
				.resolve("sentinel-set-" + sets.incrementAndGet() + "-" + ProcessHandle.current().pid()));
			for (RedisServer server : this.servers) {
				Files.copy(server.directory().resolve("redis.log"), logs.resolve("redis-" + server.port() + ".log"),
						StandardCopyOption.REPLACE_EXISTING);
			}
			for (RedisSentinel sentinel : this.sentinels) {
				Files.copy(sentinel.log(), logs.resolve("sentinel-" + sentinel.port() + ".log"),
						StandardCopyOption.REPLACE_EXISTING);
			}
		}
		catch (IOException ex) {
			// Only a convenience for reading failures
		}
	}

}

package com.example.gracefulsequence.sequence.cluster;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import com.example.gracefulsequence.FreePort;
import com.example.gracefulsequence.ServiceProcess;
import com.example.gracefulsequence.sequence.cluster.ClusterInstances.Entry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Cluster mode when Redis fails, with the packaged jar and a real Redis: connections cut
 * again and again, Redis stopped and started again with its append-only file, and Redis
 * started again without its data. Instances keep serving what they have, and no stream
 * misses a value, sees one twice, or sees an id go back.
 *
 * @author graceful-sequence contributors
 */
class ClusterRedisIT {

	private static final Logger logger = LoggerFactory.getLogger(ClusterRedisIT.class);

	// A second, so that each Redis call may take half a second on a busy machine
	private static final Duration PERIOD = Duration.ofSeconds(1);

	private static final JsonMapper json = JsonMapper.builder().build();

	private static final Duration LEASE = Duration.ofSeconds(3);

	private static final String[] ARGUMENTS = { "--sequence.period=" + PERIOD.toMillis() + "ms",
			"--sequence.cluster.lease=" + LEASE.toMillis() + "ms", "--sequence.stream.replay=1000" };

	// A lease that outlasts the pause, so that the instance still leads when it stops
	private static final String[] LONG_LEASE = { "--sequence.period=" + PERIOD.toMillis() + "ms",
			"--sequence.cluster.lease=20s", "--sequence.stream.replay=1000" };

	@Test
	void anInstanceThatCannotReachRedisAtStartServesItsStateFilesValueAsRestoredWithIndexZero(@TempDir Path directory)
			throws Exception {
		Files.writeString(directory.resolve("last-num-from-seq.txt"), "Last number from random sequence: 42\n");
		// Nobody listens there: every connection is refused
		int closed = FreePort.find();
		try (ServiceProcess instance = ServiceProcess.start(directory, "--sequence.cluster.enabled=true",
				"--spring.data.redis.url=redis://" + RedisServer.HOST + ":" + closed,
				"--sequence.period=" + PERIOD.toMillis() + "ms")) {
			instance.awaitReady();
			JsonNode last = json.readTree(instance.get("/sequence/last").body());
			assertThat(last.get("value").asInt()).isEqualTo(42);
			assertThat(last.get("index").asLong()).isZero();
			assertThat(last.get("source").asString()).isEqualTo("restored");
			assertThat(instance.logLines()).anyMatch((line) -> line.contains("Redis cannot be reached at start"));
		}
	}

	@Test
	void whenRedisConnectionsAreCutAgainAndAgainThenNoStreamMissesAValue(@TempDir Path directory) throws Exception {
		try (ClusterInstances cluster = ClusterInstances.startWithRedis(directory, 2, ARGUMENTS)) {
			cluster.awaitLeader(ServiceProcess.STARTUP_TIMEOUT);
			List<StreamRecord> streams = StreamRecord.openOnEach(cluster);
			try {
				long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
				int killed = 0;
				while (System.nanoTime() < until) {
					killed += cluster.redis().killClients();
					// Twice a period: the instances reconnect and cut again
					Thread.sleep(PERIOD.toMillis() * 2);
				}
				assertThat(killed).isGreaterThan(0);
				int size = cluster.history().size();
				cluster.awaitHistory(size + 3, PERIOD);
				awaitStreamsAt(streams, ClusterInstances.last(cluster.history()).id());
				ClusterLeadershipIT.assertOneWriterPerPosition(cluster.history());
				streams.forEach((stream) -> stream.assertFollowed(cluster));
			}
			finally {
				streams.forEach(StreamRecord::close);
			}
		}
	}

	@Test
	void whenRedisStopsForTenSecondsThenInstancesServeWhatTheyHaveAndTheSequenceGoesOnWithNothingLost(
			@TempDir Path directory) throws Exception {
		try (ClusterInstances cluster = ClusterInstances.startWithRedis(directory, 2, ARGUMENTS)) {
			cluster.awaitLeader(ServiceProcess.STARTUP_TIMEOUT);
			cluster.awaitHistory(3, PERIOD);
			List<StreamRecord> streams = StreamRecord.openOnEach(cluster);
			try {
				List<Entry> before = cluster.history();
				awaitStreamsAt(streams, ClusterInstances.last(before).id());
				List<Integer> logged = new ArrayList<>();
				cluster.all().forEach((instance) -> logged.add(instance.messages().size()));
				cluster.redis().stop();
				long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
				Set<Integer> statuses = ConcurrentHashMap.newKeySet();
				while (System.nanoTime() < until) {
					for (ServiceProcess instance : cluster.all()) {
						statuses.add(instance.get("/sequence/last").status());
						statuses.add(instance.get("/readyz").status());
						statuses.add(instance.get("/sequence/next?timeout=" + PERIOD.toMillis() + "ms").status());
					}
				}
				for (ServiceProcess instance : cluster.all()) {
					assertThat(json.readTree(instance.get("/actuator/health").body())
						.at("/components/redis/status")
						.asString()).isEqualTo("DOWN");
				}
				// The latest value, readiness, and long-polls that end without a value
				assertThat(statuses).containsExactlyInAnyOrder(200, 204);
				List<List<String>> outage = new ArrayList<>();
				for (int i = 0; i < cluster.all().size(); i++) {
					List<String> messages = cluster.all().get(i).messages();
					outage.add(messages.subList(logged.get(i), messages.size()));
				}
				cluster.redis().restart();
				long restartedAt = System.currentTimeMillis();
				cluster.awaitHistory(before.size() + 3, PERIOD);
				List<Entry> history = cluster.history();
				// Nothing already written is lost
				assertThat(history).containsAll(before);
				// The sequence goes on within a lease and a period of Redis' return,
				// at the period, with no burst of the values the outage missed (ids
				// are Redis' clock at each append, the test's clock on this machine)
				List<Entry> after = history.subList(before.size(), history.size());
				logger.info("The first value after Redis' return came {} ms after it; the ids that followed {}",
						after.get(0).id() - restartedAt, after.stream().map(Entry::id).toList());
				assertThat(after.get(0).id() - restartedAt).as("ms from Redis' return to the next value")
					.isLessThanOrEqualTo(LEASE.plus(PERIOD).plus(ClusterInstances.MARGIN).toMillis());
				for (int i = 1; i < after.size(); i++) {
					assertThat(after.get(i).id() - after.get(i - 1).id()).as("ms between two values after the outage")
						.isGreaterThanOrEqualTo(PERIOD.dividedBy(2).toMillis());
				}
				ClusterLeadershipIT.assertOneWriterPerPosition(history);
				awaitStreamsAt(streams, ClusterInstances.last(history).id());
				streams.forEach((stream) -> stream.assertFollowed(cluster));
				streams.forEach((stream) -> assertThat(stream.ended()).isFalse());
				// One WARN for the outage, not one per retry
				for (List<String> messages : outage) {
					assertThat(messages).filteredOn((message) -> message.startsWith("Redis cannot be reached"))
						.hasSize(1);
				}
				for (ServiceProcess instance : cluster.all()) {
					await("Redis UP again").atMost(Duration.ofSeconds(10))
						.until(() -> json.readTree(instance.get("/actuator/health").body())
							.at("/components/redis/status")
							.asString()
							.equals("UP"));
				}
			}
			finally {
				streams.forEach(StreamRecord::close);
			}
		}
	}

	@Test
	void whenRedisStartsAgainWithoutItsDataThenIdsStillIncreaseOnEveryStream(@TempDir Path directory) throws Exception {
		try (ClusterInstances cluster = ClusterInstances.startWithRedis(directory, 2, ARGUMENTS)) {
			cluster.awaitLeader(ServiceProcess.STARTUP_TIMEOUT);
			cluster.awaitHistory(3, PERIOD);
			List<StreamRecord> streams = StreamRecord.openOnEach(cluster);
			try {
				long lastBefore = ClusterInstances.last(cluster.history()).id();
				awaitStreamsAt(streams, lastBefore);
				cluster.redis().restartEmpty();
				// A new history, whose ids go on above the old ones
				cluster.awaitHistory(3, PERIOD);
				List<Entry> history = cluster.history();
				assertThat(history.get(0).id()).isGreaterThanOrEqualTo(lastBefore);
				awaitStreamsAt(streams, ClusterInstances.last(history).id());
				for (StreamRecord stream : streams) {
					List<Entry> values = stream.values();
					for (int i = 1; i < values.size(); i++) {
						assertThat(values.get(i).id()).isGreaterThan(values.get(i - 1).id());
					}
					assertThat(values).extracting(Entry::id).contains(ClusterInstances.last(history).id());
				}
			}
			finally {
				streams.forEach(StreamRecord::close);
			}
		}
	}

	@Test
	void whenRedisStandsStillNoRequestWaitsOnItAndShutdownEndsWellWithinItsDeadline(@TempDir Path directory)
			throws Exception {
		try (ClusterInstances cluster = ClusterInstances.startWithRedis(directory, 1, LONG_LEASE)) {
			ServiceProcess instance = cluster.awaitLeader(ServiceProcess.STARTUP_TIMEOUT);
			cluster.awaitHistory(2, PERIOD);
			long lastId = ClusterInstances.last(cluster.history()).id();
			// Stands still with its connections open, as a partitioned Redis does
			cluster.redis().pause();
			try {
				long started = System.nanoTime();
				assertThat(instance.get("/sequence/last").status()).isEqualTo(200);
				assertThat(instance.get("/sequence/next?timeout=" + PERIOD.toMillis() + "ms").status()).isIn(200, 204);
				// Resuming from an id ahead of this instance asks Redis, off the request
				// thread: the stream is answered at once and never with an older value
				try (StreamRecord ahead = StreamRecord.open(instance, Long.toString(lastId + 60_000))) {
					assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
					assertThat(ahead.values()).allMatch((value) -> value.id() > lastId + 60_000);
				}
				started = System.nanoTime();
				instance.sigterm();
				assertThat(instance.awaitExit(Duration.ofSeconds(30))).isEqualTo(143);
				// Each Redis call of the shutdown is bounded by the command timeout
				assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
				assertThat(instance.messages()).anyMatch((message) -> message.startsWith("Skipped the handover"));
				assertThat(instance.messages()).last().isEqualTo("I'm leaving, bye!");
			}
			finally {
				cluster.redis().resume();
			}
		}
	}

	private static void awaitStreamsAt(List<StreamRecord> streams, long id) {
		await("every stream at id " + id).atMost(Duration.ofSeconds(10))
			.until(() -> streams.stream().allMatch((stream) -> !stream.values().isEmpty() && stream.lastId() >= id));
	}

}

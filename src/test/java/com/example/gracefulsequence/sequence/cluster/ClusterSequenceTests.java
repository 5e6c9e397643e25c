package com.example.gracefulsequence.sequence.cluster;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import com.example.gracefulsequence.sequence.SequenceHub;
import com.example.gracefulsequence.sequence.SequenceProperties;
import com.example.gracefulsequence.sequence.SequenceValue;
import com.example.gracefulsequence.sequence.SubscriberPlaces;
import com.example.gracefulsequence.state.StateFile;
import com.example.gracefulsequence.state.StateFileWriter;
import io.lettuce.core.ClientOptions;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.boot.data.redis.autoconfigure.DataRedisProperties;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.health.registry.DefaultHealthContributorRegistry;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration.LettuceClientConfigurationBuilder;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests of cluster mode's instances in one JVM against a real Redis: each instance's hub
 * follows the cluster's sequence, one leads at a time, the lead is handed over, a seeded
 * sequence is the one a single instance produces, and Redis going away shows in health.
 *
 * @author graceful-sequence contributors
 */
@ExtendWith(OutputCaptureExtension.class)
class ClusterSequenceTests {

	private static final Duration PERIOD = Duration.ofMillis(200);

	private static final long SEED = 42;

	private final List<Instance> instances = new ArrayList<>();

	private RedisServer redis;

	@AfterEach
	void stop() throws Exception {
		for (Instance instance : this.instances) {
			instance.close();
		}
		if (this.redis != null) {
			this.redis.close();
		}
	}

	private Instance instance(Path directory, String name, Duration period) throws Exception {
		return instance(directory, name, period, 0);
	}

	private Instance instance(Path directory, String name, Duration period, int replicas) throws Exception {
		SequenceProperties properties = new SequenceProperties(period, 120, SEED,
				Files.createDirectories(directory.resolve(name)).resolve("state.txt"), 10, 0,
				new SequenceProperties.Stream(Duration.ofSeconds(3), 64, Duration.ZERO),
				new SequenceProperties.Cors(List.of()), new SequenceProperties.FastPath(true),
				new SequenceProperties.Cluster(true, Duration.ofSeconds(2), replicas));
		Instance instance = new Instance(this.redis, properties);
		this.instances.add(instance);
		return instance;
	}

	@Test
	void everyInstanceReceivesTheSeededSequenceFromOneLeaderInOrder(@TempDir Path directory, CapturedOutput output)
			throws Exception {
		this.redis = RedisServer.start(Files.createDirectories(directory.resolve("redis")));
		Instance a = instance(directory, "a", PERIOD).start();
		Instance b = instance(directory, "b", PERIOD).start();
		await().atMost(Duration.ofSeconds(20)).until(() -> a.index() >= 5 && b.index() >= 5);
		assertThat(a.sequence.isEnabled()).isTrue();
		assertThat(a.leads() ^ b.leads()).isTrue();
		SplittableRandom random = new SplittableRandom(SEED);
		List<Integer> expected = new ArrayList<>();
		for (int i = 0; i < 5; i++) {
			expected.add(random.nextInt(120));
		}
		assertThat(a.received.subList(0, 5)).extracting(SequenceValue::value).isEqualTo(expected);
		assertThat(b.received.subList(0, 5)).isEqualTo(a.received.subList(0, 5));
		// Each instance counts what it received, the follower as the leader: otherwise
		// the producer-stopped alert would fire on every follower
		assertThat(List.of(a, b))
			.allSatisfy((instance) -> assertThat(instance.registry.get("sequence.values").counter().count())
				.isGreaterThanOrEqualTo(5));
		double produced = a.registry.get("sequence.cluster.produced").counter().count()
				+ b.registry.get("sequence.cluster.produced").counter().count();
		assertThat(produced).isGreaterThanOrEqualTo(5);
		assertThat(a.health().getStatus()).isEqualTo(Status.UP);
		assertThat(output).contains("Took the lead of the cluster's sequence at position 1");
	}

	@Test
	void valuesThatMustWaitForAReplicaPauseWhileNoneAcknowledgesThemAndGoOnInOrderOnceOneDoes(@TempDir Path directory,
			CapturedOutput output) throws Exception {
		this.redis = RedisServer.start(Files.createDirectories(directory.resolve("redis")));
		try (RedisServer replica = RedisServer.start(Files.createDirectories(directory.resolve("replica")),
				"--replicaof", RedisServer.HOST, Integer.toString(this.redis.port()))) {
			Instance a = instance(directory, "a", PERIOD, 1).start();
			Instance b = instance(directory, "b", PERIOD, 1).start();
			await().atMost(Duration.ofSeconds(20)).until(() -> a.index() >= 3 && b.index() >= 3);
			Instance leader = a.leads() ? a : b;
			assertThat(leader.registry.get("sequence.cluster.replicas.acknowledged").gauge().value()).isEqualTo(1);
			replica.pause();
			long paused;
			try {
				await().atMost(Duration.ofSeconds(10))
					.until(() -> leader.registry.get("sequence.cluster.commit.stalls").counter().count() >= 3);
				paused = leader.index();
				await().atMost(Duration.ofSeconds(5))
					.until(() -> leader.registry.get("sequence.cluster.commit.stalls").counter().count() >= 6);
				// Nothing that no replica holds reaches a client, on any instance
				assertThat(a.index()).isLessThanOrEqualTo(paused);
				assertThat(b.index()).isLessThanOrEqualTo(paused);
			}
			finally {
				replica.resume();
			}
			await().atMost(Duration.ofSeconds(10)).until(() -> a.index() >= paused + 3 && b.index() >= paused + 3);
			assertThat(a.received).extracting(SequenceValue::index)
				.isEqualTo(LongStream.rangeClosed(1, a.received.size()).boxed().toList());
			assertThat(b.received.subList(0, 5)).isEqualTo(a.received.subList(0, 5));
			assertThat(output).containsOnlyOnce("waits for 1 Redis replica(s) to hold it");
			assertThat(output).contains("is committed: 1 Redis replica(s) hold it");
		}
	}

	@Test
	void theLeaderHandsTheLeadOverAndNeverTakesItBackWhileItKeepsFollowing(@TempDir Path directory) throws Exception {
		this.redis = RedisServer.start(Files.createDirectories(directory.resolve("redis")));
		Instance a = instance(directory, "a", PERIOD).start();
		await().atMost(Duration.ofSeconds(20)).until(() -> a.leads() && a.index() >= 2);
		Instance b = instance(directory, "b", PERIOD).start();
		await().atMost(Duration.ofSeconds(20)).until(() -> b.index() >= a.index() && b.index() >= 3);
		assertThat(a.sequence.handOver().get(5, TimeUnit.SECONDS))
			.startsWith("Handed the lead of the cluster's sequence over");
		await().atMost(Duration.ofSeconds(5)).until(b::leads);
		long handedAt = a.index();
		await().atMost(Duration.ofSeconds(10)).until(() -> a.index() >= handedAt + 5);
		assertThat(a.leads()).isFalse();
		// The leaver kept following the new leader's values, each once and in order (how
		// late the first one may be is ClusterLeadershipIT's, with a real shutdown)
		assertThat(a.received).extracting(SequenceValue::index).isSorted().doesNotHaveDuplicates();
		assertThat(a.registry.get("sequence.cluster.leads").tag("event", "handed-over").counter().count()).isEqualTo(1);
		assertThat(b.registry.get("sequence.cluster.leads").tag("event", "taken").counter().count()).isEqualTo(1);
	}

	@Test
	void theStateFileIsWrittenInTheBackgroundWithTheLastValueReceived(@TempDir Path directory) throws Exception {
		this.redis = RedisServer.start(Files.createDirectories(directory.resolve("redis")));
		Instance a = instance(directory, "a", PERIOD).start();
		await().atMost(Duration.ofSeconds(20)).until(() -> a.index() >= 2);
		a.close();
		assertThat(Files.readString(a.stateFile))
			.isEqualTo("Last number from random sequence: " + a.hub.latest().value() + "\n");
	}

	@Test
	void aFollowerHasNothingToHandOverAndALeaderAloneGoesOnProducing(@TempDir Path directory) throws Exception {
		this.redis = RedisServer.start(Files.createDirectories(directory.resolve("redis")));
		Instance a = instance(directory, "a", PERIOD).start();
		await().atMost(Duration.ofSeconds(20)).until(() -> a.leads() && a.index() >= 2);
		Instance b = instance(directory, "b", PERIOD).start();
		await().atMost(Duration.ofSeconds(20)).until(() -> b.index() >= 3);
		assertThat(b.sequence.handOver().get(5, TimeUnit.SECONDS))
			.isEqualTo("Nothing to hand over: this instance does not lead the cluster's sequence");
		// b left the instances present, so a is alone
		assertThat(a.sequence.handOver().get(5, TimeUnit.SECONDS)).startsWith("Nothing to hand over to");
		long index = a.index();
		await().atMost(Duration.ofSeconds(10)).until(() -> a.index() >= index + 3);
		assertThat(a.leads()).isTrue();
	}

	@Test
	void whenRedisGoesAwayTheRedisComponentIsDownAndTheInstanceServesWhatItHas(@TempDir Path directory,
			CapturedOutput output) throws Exception {
		this.redis = RedisServer.start(Files.createDirectories(directory.resolve("redis")));
		Instance a = instance(directory, "a", PERIOD).start();
		await().atMost(Duration.ofSeconds(20)).until(() -> a.index() >= 2);
		this.redis.stop();
		await().atMost(Duration.ofSeconds(20)).until(() -> a.health().getStatus().equals(Status.DOWN));
		assertThat(a.registry.get("sequence.cluster.redis.up").gauge().value()).isZero();
		assertThat(a.hub.latest()).isNotNull();
		this.redis.restart();
		await().atMost(Duration.ofSeconds(20)).until(() -> a.health().getStatus().equals(Status.UP));
		long index = a.index();
		await().atMost(Duration.ofSeconds(20)).until(() -> a.index() >= index + 2);
		assertThat(output.getOut().lines().filter((line) -> line.contains("Redis cannot be reached ("))).hasSize(1);
		assertThat(output).contains("Redis can be reached again");
	}

	@Test
	void aRedisThatStandsStillHoldsTheLeaderNoLongerThanItsBoundAndTheSequenceGoesOnOnceItMovesAgain(
			@TempDir Path directory) throws Exception {
		this.redis = RedisServer.start(Files.createDirectories(directory.resolve("redis")));
		Instance a = instance(directory, "a", PERIOD).start();
		await().atMost(Duration.ofSeconds(20)).until(() -> a.leads() && a.index() >= 2);
		// Well inside the lease: each call gives up within half a period
		this.redis.pause();
		try {
			await().atMost(Duration.ofMillis(1500))
				.until(() -> a.registry.get("sequence.cluster.redis.errors").counter().count() >= 3);
		}
		finally {
			this.redis.resume();
		}
		long index = a.index();
		// Lettuce's own timeout, a minute, would hold the leader far longer
		await().atMost(Duration.ofSeconds(3)).until(() -> a.index() >= index + 2);
		assertThat(a.leads()).isTrue();
	}

	@Test
	void anInstanceWhoseSettingsDifferFromTheClustersFollowsAndSaysWhyItNeverLeads(@TempDir Path directory,
			CapturedOutput output) throws Exception {
		this.redis = RedisServer.start(Files.createDirectories(directory.resolve("redis")));
		Instance a = instance(directory, "a", PERIOD).start();
		await().atMost(Duration.ofSeconds(20)).until(a::leads);
		Instance b = instance(directory, "b", PERIOD.multipliedBy(2)).start();
		await().atMost(Duration.ofSeconds(20)).until(() -> b.index() >= 2);
		assertThat(b.leads()).isFalse();
		assertThat(output).contains("This instance never leads the cluster's sequence: its settings "
				+ "(period=400ms,bound=120,seed=42,replicas=0) differ from the cluster's (period=200ms,bound=120,seed=42,replicas=0)");
	}

	@Test
	void anInstanceStartsFromTheClustersHistoryAndAResumingStreamAheadOfItIsToldTheClusterHoldsItsId(
			@TempDir Path directory) throws Exception {
		this.redis = RedisServer.start(Files.createDirectories(directory.resolve("redis")));
		Instance a = instance(directory, "a", PERIOD).start();
		await().atMost(Duration.ofSeconds(20)).until(() -> a.index() >= 3);
		Instance b = instance(directory, "b", PERIOD);
		SequenceValue first = b.hub.latest();
		assertThat(first).isNotNull();
		assertThat(first.source()).isEqualTo(SequenceValue.Source.LIVE);
		assertThat(first.index()).isGreaterThanOrEqualTo(3);
		assertThat(holds(b.origin, first.eventId())).isTrue();
		assertThat(holds(b.origin, first.eventId() + Duration.ofDays(1).toMillis())).isFalse();
	}

	@Test
	void aRedisThatMayEvictTheSequenceOrKeepsNoAppendOnlyFileGetsAWarningAtStart(@TempDir Path directory,
			CapturedOutput output) throws Exception {
		this.redis = RedisServer.start(Files.createDirectories(directory.resolve("redis")), "--appendonly", "no",
				"--maxmemory-policy", "allkeys-lru");
		instance(directory, "a", PERIOD);
		assertThat(output).contains("Redis evicts keys (maxmemory-policy allkeys-lru)")
			.contains("Redis keeps no append-only file (appendonly no)");
	}

	private static boolean holds(ClusterOrigin origin, long eventId) throws InterruptedException {
		boolean[] held = new boolean[1];
		CountDownLatch answered = new CountDownLatch(1);
		origin.holds(eventId, (answer) -> {
			held[0] = answer;
			answered.countDown();
		});
		assertThat(answered.await(5, TimeUnit.SECONDS)).isTrue();
		return held[0];
	}

	/**
	 * One instance's cluster-mode beans, wired as the application wires them.
	 */
	private static final class Instance implements AutoCloseable {

		private final LettuceConnectionFactory connectionFactory;

		private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

		private final DefaultHealthContributorRegistry health = new DefaultHealthContributorRegistry();

		private final SequenceHub hub;

		private final ClusterOrigin origin;

		private final ClusterSequence sequence;

		private final Path stateFile;

		private final List<SequenceValue> received = new CopyOnWriteArrayList<>();

		private boolean running;

		Instance(RedisServer redis, SequenceProperties properties) {
			ClusterSettings settings = ClusterSettings.of(properties, null);
			// Lettuce bounded as the application bounds it
			ClusterConfiguration configuration = new ClusterConfiguration();
			LettuceClientConfigurationBuilder client = LettuceClientConfiguration.builder();
			configuration.boundedLettuceCommands(settings).customize(client);
			ClientOptions.Builder options = ClientOptions.builder();
			configuration.boundedLettuceOptions(settings, new DataRedisProperties()).customize(options);
			this.connectionFactory = new LettuceConnectionFactory(
					new RedisStandaloneConfiguration(RedisServer.HOST, redis.port()),
					client.clientOptions(options.build()).build());
			this.connectionFactory.afterPropertiesSet();
			this.connectionFactory.start();
			RedisSequenceStore store = new RedisSequenceStore(new StringRedisTemplate(this.connectionFactory),
					this.connectionFactory, settings.keep());
			this.stateFile = properties.stateFile();
			StateFile file = new StateFile(this.stateFile, Clock.systemUTC());
			this.hub = new SequenceHub(new SubscriberPlaces(10, 0), 64, Duration.ZERO, System::nanoTime, null);
			this.origin = new ClusterOrigin(settings, store);
			this.hub.follow(this.origin);
			this.hub.onPublish(this.received::add);
			this.sequence = new ClusterSequence(settings, store, this.origin, this.hub,
					new StateFileWriter(file, Clock.systemUTC(), this.registry), Clock.systemUTC(), this.registry,
					this.health);
		}

		Instance start() {
			this.sequence.start();
			this.running = true;
			return this;
		}

		long index() {
			SequenceValue latest = this.hub.latest();
			return (latest != null) ? latest.index() : 0;
		}

		boolean leads() {
			return this.registry.get("sequence.cluster.leader").gauge().value() == 1.0;
		}

		Health health() {
			return ((HealthIndicator) this.health.getContributor("redis")).health();
		}

		@Override
		public void close() throws InterruptedException {
			if (this.running) {
				this.running = false;
				CountDownLatch stopped = new CountDownLatch(1);
				this.sequence.stop(stopped::countDown);
				assertThat(stopped.await(10, TimeUnit.SECONDS)).isTrue();
			}
			this.connectionFactory.destroy();
		}

	}

}

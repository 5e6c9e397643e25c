package com.example.gracefulsequence.sequence.cluster;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import com.example.gracefulsequence.sequence.SequenceHub;
import com.example.gracefulsequence.sequence.SequenceMeters;
import com.example.gracefulsequence.sequence.SequenceValue;
import com.example.gracefulsequence.shutdown.ShutdownStep;
import com.example.gracefulsequence.shutdown.ShutdownStepLifecycle;
import com.example.gracefulsequence.state.StateFileWriter;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.registry.HealthContributorRegistry;

/**
 * In cluster mode, this instance's part in the cluster's sequence: it follows the values
 * in Redis into the hub, logging each as it receives it ({@code Received: N}, the
 * leader's own values too), and takes part in who leads. The state file is the instance's
 * own record here: it is written in the background, so that no disk stands between Redis
 * and the clients, and once more at shutdown.
 * <p>
 * Shutdown step 2 {@link #handOver() hands the lead over}; the instance goes on
 * following, so that its long-polls and streams get the new leader's values, until step
 * 6, after the HTTP drain, where it stops following, as the local producer stops there.
 * In local mode it does nothing: everything is decided when the instance starts, also on
 * the AOT-processed jar, and no connection to Redis is opened.
 *
 * @author graceful-sequence contributors
 */
final class ClusterSequence extends ShutdownStepLifecycle {

	private static final Logger logger = LoggerFactory.getLogger(ClusterSequence.class);

	private final ClusterSettings settings;

	private final SequenceHub hub;

	private final @Nullable Node node;

	/**
	 * The instance's part in the cluster, or none.
	 * @param settings the cluster's settings
	 * @param store the cluster's store; {@code null} in local mode, where the Redis beans
	 * do not exist ({@link LocalModeWithoutRedis})
	 * @param origin the cluster's history for the hub; {@code null} in local mode
	 * @param hub the hub the values go to
	 * @param stateFile the state file's writer
	 * @param clock the clock
	 * @param registry the meters
	 * @param health where the Redis health component goes
	 */
	ClusterSequence(ClusterSettings settings, @Nullable RedisSequenceStore store, @Nullable ClusterOrigin origin,
			SequenceHub hub, StateFileWriter stateFile, Clock clock, MeterRegistry registry,
			HealthContributorRegistry health) {
		super(ShutdownStep.PRODUCER);
		this.settings = settings;
		this.hub = hub;
		this.node = settings.enabled() ? new Node(Objects.requireNonNull(store, "no Redis store in cluster mode"),
				Objects.requireNonNull(origin, "no cluster origin in cluster mode"), stateFile, clock, registry, health)
				: null;
	}

	/**
	 * Whether this instance follows a cluster.
	 * @return whether cluster mode is on
	 */
	boolean isEnabled() {
		return this.node != null;
	}

	@Override
	protected void onStart() {
		if (this.node != null) {
			this.node.following.start();
			this.node.leadership.start();
		}
	}

	/**
	 * Shutdown step 2: hand the lead over, if this instance has it, and lead never again.
	 * @return what was done, in the words of the log
	 */
	CompletableFuture<String> handOver() {
		if (this.node == null) {
			return CompletableFuture.completedFuture("Nothing to hand over: cluster mode is off");
		}
		return this.node.leadership.handOver();
	}

	@Override
	protected void onStop(Runnable callback) {
		Node node = this.node;
		if (node == null) {
			callback.run();
			return;
		}
		logger.info("Closing sequence");
		node.leadership.close(() -> {
			node.following.stop(this.settings.timeout().multipliedBy(2));
			node.stateFile.close(this.settings.timeout());
			callback.run();
		});
	}

	/**
	 * What runs in cluster mode only.
	 */
	private final class Node {

		private final Following following;

		private final Leadership leadership;

		private final BackgroundStateFile stateFile;

		private final Clock clock;

		private final Counter values;

		private final Timer delay;

		Node(RedisSequenceStore store, ClusterOrigin origin, StateFileWriter stateFile, Clock clock,
				MeterRegistry registry, HealthContributorRegistry health) {
			RedisReachability redis = new RedisReachability(registry, this::isLeading, origin.reached(),
					ClusterSequence.this.settings.renewal(), System::nanoTime, store::reconnect);
			health.registerContributor("redis", (HealthIndicator) redis::health);
			this.clock = clock;
			this.stateFile = new BackgroundStateFile(stateFile);
			this.values = SequenceMeters.values(registry);
			this.delay = Timer.builder("sequence.cluster.delay")
				.description("How long after the leader emitted a value this instance received it")
				.publishPercentileHistogram()
				.maximumExpectedValue(Duration.ofSeconds(10))
				.register(registry);
			this.leadership = new Leadership(store, ClusterSequence.this.settings, ClusterSequence.this.hub::latest,
					redis, registry,
					Executors.newSingleThreadScheduledExecutor((task) -> new Thread(task, "sequence-leader")),
					System::nanoTime);
			SequenceValue latest = ClusterSequence.this.hub.latest();
			this.following = new Following(store, ClusterSequence.this.settings.block(), redis,
					(latest != null) ? latest.eventId() : 0, this::receive, this.leadership::leaseReleased);
		}

		private boolean isLeading() {
			return this.leadership != null && this.leadership.isLeading();
		}

		// On the follower's thread: values come in order, each once
		private void receive(SequenceValue value) {
			SequenceValue latest = ClusterSequence.this.hub.latest();
			if (latest != null && value.eventId() <= latest.eventId()) {
				return;
			}
			logger.info("Received: {}", value.value());
			ClusterSequence.this.hub.publish(value);
			this.values.increment();
			this.delay.record(Duration.between(value.emittedAt(), this.clock.instant()));
			this.stateFile.save(value);
		}

	}

	/**
	 * Writes the latest value to the state file on a thread of its own, the latest only
	 * when values come faster than the disk takes them.
	 */
	private static final class BackgroundStateFile {

		private final StateFileWriter writer;

		private final AtomicReference<@Nullable SequenceValue> pending = new AtomicReference<>();

		private final ExecutorService executor = Executors
			.newSingleThreadExecutor((task) -> new Thread(task, "sequence-state-file"));

		BackgroundStateFile(StateFileWriter writer) {
			this.writer = writer;
		}

		void save(SequenceValue value) {
			if (this.pending.getAndSet(value) == null) {
				this.executor.execute(this::write);
			}
		}

		private void write() {
			SequenceValue value = this.pending.getAndSet(null);
			if (value != null) {
				this.writer.write(value.value(), value.emittedAt());
			}
		}

		void close(Duration timeout) {
			this.executor.shutdown();
			try {
				this.executor.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}

	}

}

package com.example.gracefulsequence.sequence.cluster;

import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

import com.example.gracefulsequence.sequence.SequenceValue;
import com.example.gracefulsequence.sequence.cluster.RedisSequenceStore.Acquired;
import com.example.gracefulsequence.sequence.cluster.RedisSequenceStore.Appended;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This instance's part in who produces the cluster's sequence: it tries to take the lease
 * when nobody holds it, and while it holds it, it renews it and appends a value every
 * period, fenced by the lease. Everything runs on one scheduler thread, so that the
 * lease, the position and the next value change in one place.
 * <p>
 * A new leader goes on with the cluster's schedule: its first value comes one period
 * after the last one in Redis, by Redis' clock, or at once if that time has passed, and
 * never a burst of catch-up values. With a seed, it brings its generator to the position,
 * so that the cluster's sequence is the one an instance with that seed produces alone.
 * <p>
 * When values must wait for replicas ({@code sequence.cluster.replicas}), each one is
 * staged, waited for and then committed into the stream that every instance follows; a
 * value that too few replicas acknowledged stays staged and is tried again a period
 * later, with no new value in between, so that the sequence pauses rather than hands
 * clients a value that a failover can lose.
 * <p>
 * A leader that finds its lease gone (it was paused past it, or Redis lost it) or a
 * position written by another logs one WARN and follows. A leaving instance never takes
 * the lead again.
 *
 * @author graceful-sequence contributors
 */
final class Leadership {

	private static final Logger logger = LoggerFactory.getLogger(Leadership.class);

	private final RedisSequenceStore store;

	private final ClusterSettings settings;

	private final Supplier<@Nullable SequenceValue> latest;

	private final RedisReachability redis;

	private final ScheduledExecutorService scheduler;

	private final LongSupplier ticker;

	private final String holder = UUID.randomUUID().toString();

	private final Counter produced;

	private final Counter taken;

	private final Counter handedOver;

	private final Counter lost;

	private final Counter stalls;

	private volatile double acknowledged = Double.NaN;

	private volatile boolean leaving;

	// Only the scheduler's thread touches the fields below
	private @Nullable String lease;

	private RandomGenerator generator = new SplittableRandom();

	private long nextIndex;

	private @Nullable Integer pending;

	private long nextAt;

	private long renewedAt;

	private @Nullable ScheduledFuture<?> production;

	private @Nullable ScheduledFuture<?> renewal;

	private @Nullable ScheduledFuture<?> attempt;

	private @Nullable String mismatch;

	private boolean stalled;

	/**
	 * Create this instance's leadership.
	 * @param store the cluster's sequence in Redis
	 * @param settings the settings of the sequence
	 * @param latest the latest value this instance has, whose id it has seen
	 * @param redis whether Redis is reached
	 * @param registry where its meters go
	 * @param scheduler its thread; it shuts it down when it closes
	 * @param ticker elapsed time in nanoseconds, the time of the scheduler
	 */
	Leadership(RedisSequenceStore store, ClusterSettings settings, Supplier<@Nullable SequenceValue> latest,
			RedisReachability redis, MeterRegistry registry, ScheduledExecutorService scheduler, LongSupplier ticker) {
		this.store = store;
		this.settings = settings;
		this.latest = latest;
		this.redis = redis;
		this.scheduler = scheduler;
		this.ticker = ticker;
		this.produced = Counter.builder("sequence.cluster.produced")
			.description("Values this instance appended to the cluster's sequence as its leader")
			.register(registry);
		this.taken = leads(registry, "taken");
		this.handedOver = leads(registry, "handed-over");
		this.lost = leads(registry, "lost");
		Gauge.builder("sequence.cluster.leader", this, (leadership) -> leadership.isLeading() ? 1 : 0)
			.description("1 while this instance leads the cluster's sequence, else 0")
			.register(registry);
		this.stalls = Counter.builder("sequence.cluster.commit.stalls")
			.description("Values that fewer Redis replicas than sequence.cluster.replicas acknowledged in time; "
					+ "each waits, and the leader tries again a period later")
			.register(registry);
		Gauge.builder("sequence.cluster.replicas.acknowledged", this, (leadership) -> leadership.acknowledged)
			.description("On the leader, how many Redis replicas acknowledged its latest value (WAIT's answer); "
					+ "NaN on a follower or when values do not wait for replicas")
			.register(registry);
	}

	private static Counter leads(MeterRegistry registry, String event) {
		return Counter.builder("sequence.cluster.leads")
			.description("Leads of the cluster's sequence this instance took, handed over at shutdown, or lost")
			.tag("event", event)
			.register(registry);
	}

	/**
	 * Whether this instance holds the lease.
	 * @return whether it leads
	 */
	boolean isLeading() {
		return this.lease != null;
	}

	/**
	 * Start trying to take the lead.
	 */
	void start() {
		this.scheduler.execute(this::tryToLead);
	}

	/**
	 * A leader handed its lease over: try to take it at once rather than when the next
	 * try comes.
	 */
	void leaseReleased() {
		if (!this.leaving) {
			this.scheduler.execute(this::tryToLead);
		}
	}

	/**
	 * Shutdown step 2: stop producing and hand the lease over to an instance that
	 * follows, and take the lead never again; alone, go on producing.
	 * @return what was done, in the words of the log
	 */
	CompletableFuture<String> handOver() {
		this.leaving = true;
		return CompletableFuture.supplyAsync(this::release, this.scheduler);
	}

	/**
	 * Stop producing, give the lease up even if no other instance follows, and end the
	 * thread.
	 * @param callback run once the thread has ended
	 */
	void close(Runnable callback) {
		this.leaving = true;
		this.scheduler.execute(() -> {
			cancel(this.attempt);
			if (this.lease != null) {
				cancel(this.production);
				try {
					this.store.release(this.lease, this.holder, true);
				}
				catch (RuntimeException ex) {
					this.redis.failed("give the lease up", ex);
				}
				stopLeading();
			}
			this.store.closeWriter();
		});
		this.scheduler.execute(callback);
		this.scheduler.shutdown();
	}

	private void tryToLead() {
		if (this.leaving || this.lease != null) {
			return;
		}
		cancel(this.attempt);
		long leaseMillis = this.settings.lease().toMillis();
		try {
			Acquired acquired = this.store.acquire(this.holder, this.settings.lease(), this.settings.shared(), seen(),
					UUID.randomUUID().toString());
			this.redis.wrote();
			switch (acquired.outcome()) {
				case "taken" -> lead(acquired);
				// Right after it expires, so that a crashed leader's values stop for no
				// longer than its lease
				case "held" -> tryAgainIn(Math.min(acquired.time() + 5, leaseMillis / 2));
				default -> {
					if (!acquired.lease().equals(this.mismatch)) {
						this.mismatch = acquired.lease();
						logger.warn(
								"This instance never leads the cluster's sequence: its settings ({}) differ "
										+ "from the cluster's ({}); it follows it",
								this.settings.shared(), acquired.lease());
					}
					tryAgainIn(leaseMillis);
				}
			}
		}
		catch (RuntimeException ex) {
			this.redis.failed("take the lead", ex);
			tryAgainIn(leaseMillis / 4);
		}
	}

	private long seen() {
		SequenceValue latest = this.latest.get();
		return (latest != null) ? latest.eventId() : 0;
	}

	private void tryAgainIn(long millis) {
		this.attempt = this.scheduler.schedule(this::tryToLead, Math.max(millis, 1), TimeUnit.MILLISECONDS);
	}

	private void lead(Acquired acquired) {
		this.lease = acquired.lease();
		this.renewedAt = this.ticker.getAsLong();
		this.taken.increment();
		this.nextIndex = acquired.lastIndex() + 1;
		this.generator = generatorAt(acquired.lastIndex());
		this.pending = null;
		if (acquired.lastId() == 0) {
			carryOver();
		}
		long periodMillis = this.settings.period().toMillis();
		long delay = (acquired.lastId() > 0) ? Math.max(0, acquired.lastId() + periodMillis - acquired.time())
				: periodMillis;
		logger.info("Took the lead of the cluster's sequence at position {}; its next value comes in {} ms",
				this.nextIndex, delay);
		long renewal = this.settings.renewal().toNanos();
		this.renewal = this.scheduler.scheduleWithFixedDelay(this::renew, renewal, renewal, TimeUnit.NANOSECONDS);
		this.nextAt = this.ticker.getAsLong() + TimeUnit.MILLISECONDS.toNanos(delay);
		scheduleProduction();
	}

	// A single instance that moves to cluster mode, or a cluster whose Redis lost its
	// data, keeps the last value its clients saw, with its id
	private void carryOver() {
		SequenceValue latest = this.latest.get();
		String lease = this.lease;
		if (latest == null || lease == null) {
			return;
		}
		try {
			Appended appended = write(lease, latest.value(), 0, latest.eventId());
			if (appended.outcome().equals("appended")) {
				logger.info("Carried value {} over into the cluster's empty sequence", latest.value());
			}
		}
		catch (RuntimeException ex) {
			this.redis.failed("carry the latest value over", ex);
		}
	}

	private RandomGenerator generatorAt(long position) {
		Long seed = this.settings.seed();
		if (seed == null) {
			return new SplittableRandom();
		}
		// The seeded sequence is sequential: draw the values before the position again
		SplittableRandom random = new SplittableRandom(seed);
		for (long i = 0; i < position; i++) {
			random.nextInt(this.settings.bound());
		}
		return random;
	}

	private void scheduleProduction() {
		long delay = this.nextAt - this.ticker.getAsLong();
		this.production = this.scheduler.schedule(this::produce, delay, TimeUnit.NANOSECONDS);
	}

	private void produce() {
		String lease = this.lease;
		if (lease == null) {
			return;
		}
		if (this.pending == null) {
			// Drawn once per position, whatever happens to the append, so that a seed
			// gives the same sequence
			this.pending = this.generator.nextInt(this.settings.bound());
		}
		try {
			Appended appended = write(lease, this.pending, this.nextIndex, -1);
			this.redis.wrote();
			switch (appended.outcome()) {
				case "appended" -> advance();
				// Too few replicas hold it yet, or a value staged before went first: the
				// same position a period later
				case "waiting" -> {
				}
				case "position" -> {
					if (appended.id() == this.nextIndex && appended.lastLease().equals(lease)) {
						// An append that timed out here went through in Redis
						advance();
					}
					else {
						loseLead("position " + this.nextIndex + " of the sequence was written by another leader");
					}
				}
				default -> loseLead("Redis refused its value: its lease had passed");
			}
		}
		catch (RuntimeException ex) {
			this.redis.failed("append a value", ex);
		}
		if (this.lease != null) {
			// Fixed rate, without a burst of catch-up values after a stall
			this.nextAt = Math.max(this.nextAt + this.settings.period().toNanos(), this.ticker.getAsLong());
			scheduleProduction();
		}
	}

	// Appends the value, or stages it, waits for the replicas and commits it: "appended"
	// when clients get it, "waiting" when it stays staged or another value staged before
	// it was committed in its place, else as the append said
	private Appended write(String lease, int value, long index, long carriedId) {
		int replicas = this.settings.replicas();
		if (replicas == 0) {
			return this.store.append(lease, value, index, carriedId, seen());
		}
		Appended staged = this.store.stage(lease, value, index, carriedId, seen(), replicas, this.settings.block());
		if (!staged.outcome().equals("staged")) {
			return staged;
		}
		this.acknowledged = staged.acknowledged();
		if (staged.acknowledged() < replicas) {
			return stall(staged,
					"The value at position {} waits for {} Redis replica(s) to hold it ({} acknowledged it "
							+ "within {} ms); clients get no new value until they do, tried again every period",
					staged.index(), replicas, Math.max(staged.acknowledged(), 0), this.settings.block().toMillis());
		}
		String committed = this.store.commit(lease, staged.id(), this.settings.lease());
		if (committed.equals("settling")) {
			return stall(staged,
					"The value at position {} waits: the Redis primary lost a replica, and commits nothing for "
							+ "{} ms, so that a primary that Sentinel replaces cannot hand clients a value that the "
							+ "new one lacks; tried again every period",
					staged.index(), this.settings.lease().toMillis());
		}
		if (committed.equals("refused")) {
			return new Appended(committed, 0, "", 0, 0, 0);
		}
		if (committed.equals("gone")) {
			// Lost on the way (a failover): staged again at the next try
			return waiting(staged);
		}
		if (this.stalled) {
			this.stalled = false;
			logger.info("The value at position {} is committed: {} Redis replica(s) hold it", staged.index(),
					staged.acknowledged());
		}
		if (staged.index() != index) {
			// A value staged before, that a failover may have let clients see, went first
			logger.info("Committed the value that was staged at position {} before this one", staged.index());
			return waiting(staged);
		}
		return new Appended("appended", staged.id(), "", staged.value(), staged.index(), staged.acknowledged());
	}

	// A staged value that waits: counted each time, logged once until one is committed
	private Appended stall(Appended staged, String message, Object... arguments) {
		this.stalls.increment();
		if (!this.stalled) {
			this.stalled = true;
			logger.warn(message, arguments);
		}
		return waiting(staged);
	}

	private static Appended waiting(Appended staged) {
		return new Appended("waiting", staged.id(), "", staged.value(), staged.index(), staged.acknowledged());
	}

	private void advance() {
		this.produced.increment();
		this.nextIndex++;
		this.pending = null;
	}

	private void renew() {
		String lease = this.lease;
		if (lease == null) {
			return;
		}
		try {
			boolean renewed = this.store.renew(lease, this.holder, this.settings.lease());
			this.redis.wrote();
			if (renewed) {
				this.renewedAt = this.ticker.getAsLong();
			}
			else {
				loseLead("its lease passed before it was renewed");
			}
		}
		catch (RuntimeException ex) {
			this.redis.failed("renew the lease", ex);
			if (this.ticker.getAsLong() - this.renewedAt >= this.settings.lease().toNanos()) {
				loseLead("its lease could not be renewed within " + this.settings.lease().toMillis() + " ms");
			}
		}
	}

	private void loseLead(String reason) {
		logger.warn("Lost the lead of the cluster's sequence: {}; following it", reason);
		this.lost.increment();
		stopLeading();
		if (!this.leaving) {
			tryAgainIn(0);
		}
	}

	private void stopLeading() {
		cancel(this.production);
		cancel(this.renewal);
		this.lease = null;
		this.acknowledged = Double.NaN;
		this.stalled = false;
	}

	private String release() {
		cancel(this.attempt);
		String lease = this.lease;
		if (lease == null) {
			try {
				this.store.leave(this.holder);
				this.redis.wrote();
			}
			catch (RuntimeException ex) {
				this.redis.failed("leave the cluster", ex);
			}
			return "Nothing to hand over: this instance does not lead the cluster's sequence";
		}
		cancel(this.production);
		try {
			String outcome = this.store.release(lease, this.holder, false);
			this.redis.wrote();
			switch (outcome) {
				case "released" -> {
					stopLeading();
					this.handedOver.increment();
					return "Handed the lead of the cluster's sequence over to the instances that follow it";
				}
				case "alone" -> {
					scheduleProduction();
					return "Nothing to hand over to: no other instance follows the cluster's sequence, "
							+ "so this one goes on producing until the sequence closes";
				}
				default -> {
					loseLead("its lease had passed before it was handed over");
					return "Nothing to hand over: the lease had passed";
				}
			}
		}
		catch (RuntimeException ex) {
			this.redis.failed("hand the lead over", ex);
			scheduleProduction();
			return "Skipped the handover: Redis cannot be reached (" + ex.getMessage() + ")";
		}
	}

	private static void cancel(@Nullable ScheduledFuture<?> future) {
		if (future != null) {
			future.cancel(false);
		}
	}

}

package com.example.gracefulsequence.sequence;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;

import com.example.gracefulsequence.sequence.SequenceValue.Source;
import com.example.gracefulsequence.shutdown.ShutdownStep;
import com.example.gracefulsequence.shutdown.ShutdownStepLifecycle;
import com.example.gracefulsequence.state.StateFileWriter;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * Produces a uniform random value in {@code [0, bound)} every period on its own scheduler
 * thread, saves it to the state file and hands it to the {@link SequenceHub}. The first
 * value comes one period after it starts, as from a ticker, so that a value restored from
 * the state file is served until then. Each value is emitted at least a millisecond after
 * the one before, the restored one included, since its emission time is its event id. It
 * logs each value ({@code Received: N}) as it makes it, before the value is on disk and
 * before any client can have it: a request sent as the line appears may not see it yet.
 * <p>
 * It stops in shutdown step 6, after the HTTP drain, so that requests waiting for the
 * next value during the drain get it: stopping cancels the next value at once and calls
 * back in the last task of the producer's thread, after the value being emitted, if any.
 * <p>
 * In cluster mode it produces nothing: the cluster's leader does.
 * <p>
 * The period is told by the scheduler and the ticker it is given (elapsed time, a
 * {@code LongSupplier} in nanoseconds as everywhere in the application), so that tests
 * drive it instead of waiting for it.
 *
 * @author graceful-sequence contributors
 */
@Component
final class RandomSequenceProducer extends ShutdownStepLifecycle {

	private static final Logger logger = LoggerFactory.getLogger(RandomSequenceProducer.class);

	private final long periodNanos;

	private final int bound;

	private final RandomGenerator random;

	private final Clock clock;

	private final SequenceHub hub;

	private final StateFileWriter stateFile;

	private final Counter values;

	private final ScheduledExecutorService scheduler;

	private final LongSupplier ticker;

	private final Object monitor = new Object();

	// In cluster mode the cluster's leader produces, and this producer does nothing
	private final boolean local;

	private long index;

	// Guarded by the monitor, as the two below
	private long nextAt;

	private @Nullable ScheduledFuture<?> nextValue;

	private boolean stopped;

	@Autowired
	RandomSequenceProducer(SequenceProperties properties, RandomGenerator random, Clock clock, SequenceHub hub,
			StateFileWriter stateFile, MeterRegistry meterRegistry) {
		// Its own, not a bean: an Executor bean makes Spring Boot back off its
		// applicationTaskExecutor
		this(properties, random, clock, hub, stateFile, meterRegistry,
				Executors.newSingleThreadScheduledExecutor((task) -> new Thread(task, "sequence-producer")),
				System::nanoTime);
	}

	/**
	 * Create a producer.
	 * @param properties the sequence properties
	 * @param random the source of the values
	 * @param clock tells when a value is emitted
	 * @param hub where the values go
	 * @param stateFile where each value is saved
	 * @param meterRegistry where the values are counted
	 * @param scheduler runs the emissions; the producer owns it and shuts it down when it
	 * stops
	 * @param ticker elapsed time in nanoseconds, as {@link System#nanoTime()}, the time
	 * of the scheduler
	 */
	RandomSequenceProducer(SequenceProperties properties, RandomGenerator random, Clock clock, SequenceHub hub,
			StateFileWriter stateFile, MeterRegistry meterRegistry, ScheduledExecutorService scheduler,
			LongSupplier ticker) {
		super(ShutdownStep.PRODUCER);
		this.periodNanos = properties.period().toNanos();
		this.bound = properties.bound();
		this.random = random;
		this.clock = clock;
		this.hub = hub;
		this.stateFile = stateFile;
		this.values = SequenceMeters.values(meterRegistry);
		this.local = !properties.cluster().enabled();
		this.scheduler = scheduler;
		this.ticker = ticker;
	}

	@Override
	protected void onStart() {
		synchronized (this.monitor) {
			if (this.stopped || !this.local) {
				return;
			}
			// As from a ticker: the first value one period after the start
			this.nextAt = this.ticker.getAsLong() + this.periodNanos;
			scheduleNext();
		}
	}

	@Override
	protected void onStop(Runnable callback) {
		if (!this.local) {
			this.scheduler.shutdown();
			callback.run();
			return;
		}
		logger.info("Closing sequence");
		synchronized (this.monitor) {
			this.stopped = true;
			if (this.nextValue != null) {
				this.nextValue.cancel(false);
			}
		}
		// The thread's last task: it runs once the value being emitted, if any, is out
		this.scheduler.execute(callback);
		// Not shutdownNow(): an interrupt would fail the state file write under way
		this.scheduler.shutdown();
	}

	private void produceNext() {
		synchronized (this.monitor) {
			if (this.stopped) {
				return;
			}
		}
		emit();
		synchronized (this.monitor) {
			if (!this.stopped) {
				// Fixed rate, without a burst of catch-up values after a stall
				this.nextAt = Math.max(this.nextAt + this.periodNanos, this.ticker.getAsLong());
				scheduleNext();
			}
		}
	}

	private void scheduleNext() {
		long delay = this.nextAt - this.ticker.getAsLong();
		this.nextValue = this.scheduler.schedule(this::produceNext, delay, TimeUnit.NANOSECONDS);
	}

	private void emit() {
		try {
			int value = this.random.nextInt(this.bound);
			SequenceValue next = new SequenceValue(value, ++this.index, emittedAt(), Source.LIVE);
			logger.info("Received: {}", value);
			this.stateFile.write(value, next.emittedAt());
			this.hub.publish(next);
			this.values.increment();
		}
		catch (RuntimeException ex) {
			logger.error("Could not emit value {} of the sequence; going on with the next", this.index, ex);
		}
	}

	// After the latest value, restored or produced: its emission time is its event id
	private Instant emittedAt() {
		Instant now = this.clock.instant().truncatedTo(ChronoUnit.MILLIS);
		SequenceValue last = this.hub.latest();
		return (last != null && !now.isAfter(last.emittedAt())) ? last.emittedAt().plusMillis(1) : now;
	}

}

package com.example.gracefulsequence.sequence;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
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

import org.springframework.stereotype.Component;

/**
 * Produces a uniform random value in {@code [0, bound)} every period on its own thread,
 * saves it to the state file and hands it to the {@link SequenceHub}. The first value
 * comes one period after it starts, as from a ticker, so that a value restored from the
 * state file is served until then. Each value is emitted at least a millisecond after the
 * one before, the restored one included, since its emission time is its event id.
 * <p>
 * It stops in shutdown step 5, after the HTTP drain, so that requests waiting for the
 * next value during the drain get it: stopping wakes the thread at once, and the callback
 * runs when the thread has ended.
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

	private final CountDownLatch stopRequested = new CountDownLatch(1);

	private final AtomicReference<@Nullable Runnable> stopCallback = new AtomicReference<>();

	private volatile @Nullable Thread thread;

	private long index;

	RandomSequenceProducer(SequenceProperties properties, RandomGenerator random, Clock clock, SequenceHub hub,
			StateFileWriter stateFile, MeterRegistry meterRegistry) {
		super(ShutdownStep.PRODUCER);
		this.periodNanos = properties.period().toNanos();
		this.bound = properties.bound();
		this.random = random;
		this.clock = clock;
		this.hub = hub;
		this.stateFile = stateFile;
		this.values = Counter.builder("sequence.values")
			.description("Values produced by the sequence")
			.register(meterRegistry);
	}

	@Override
	protected void onStart() {
		Thread producer = new Thread(this::produce, "sequence-producer");
		this.thread = producer;
		producer.start();
	}

	@Override
	protected void onStop(Runnable callback) {
		logger.info("Closing sequence");
		this.stopCallback.set(callback);
		this.stopRequested.countDown();
		Thread producer = this.thread;
		if (producer == null || !producer.isAlive()) {
			runStopCallback();
		}
	}

	private void produce() {
		long next = System.nanoTime() + this.periodNanos;
		try {
			while (!this.stopRequested.await(next - System.nanoTime(), TimeUnit.NANOSECONDS)) {
				emit();
				// Fixed rate, without a burst of catch-up values after a stall
				next = Math.max(next + this.periodNanos, System.nanoTime());
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		finally {
			runStopCallback();
		}
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

	private void runStopCallback() {
		Runnable callback = this.stopCallback.getAndSet(null);
		if (callback != null) {
			callback.run();
		}
	}

}

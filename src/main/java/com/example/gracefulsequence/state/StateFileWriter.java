package com.example.gracefulsequence.state;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes values to the {@link StateFile} without ever throwing, so that a disk that fails
 * never stops the sequence: a failed write is counted in {@code sequence.state.writes},
 * logged at most once a minute, and kept as the {@link #failure() failure} that health
 * reports, and as {@code sequence.state.healthy} 0, until a write succeeds again.
 *
 * @author graceful-sequence contributors
 */
public final class StateFileWriter {

	private static final Logger logger = LoggerFactory.getLogger(StateFileWriter.class);

	private static final Duration ERROR_LOG_INTERVAL = Duration.ofMinutes(1);

	private final StateFile file;

	private final Clock clock;

	private final Counter successes;

	private final Counter failures;

	private long consecutiveFailures;

	// Read by scrapes without the lock that a write holds while it syncs the disk
	private volatile boolean healthy = true;

	private @Nullable String lastError;

	private @Nullable Instant lastErrorLoggedAt;

	/**
	 * Create a writer.
	 * @param file the file to write
	 * @param clock the clock that spaces error logs
	 * @param meterRegistry where to count writes
	 */
	public StateFileWriter(StateFile file, Clock clock, MeterRegistry meterRegistry) {
		this.file = file;
		this.clock = clock;
		this.successes = writes(meterRegistry, "success");
		this.failures = writes(meterRegistry, "failure");
		Gauge.builder("sequence.state.healthy", this, (writer) -> writer.healthy ? 1 : 0)
			.description("1 while the last write of the state file succeeded (or none was made), else 0")
			.strongReference(true)
			.register(meterRegistry);
	}

	private static Counter writes(MeterRegistry meterRegistry, String outcome) {
		return Counter.builder("sequence.state.writes")
			.description("Writes of the state file")
			.tag("outcome", outcome)
			.register(meterRegistry);
	}

	/**
	 * The absolute path of the file.
	 * @return the path
	 */
	public Path path() {
		return this.file.path();
	}

	/**
	 * Save a value.
	 * @param value the value to save
	 * @param emittedAt when it was emitted
	 * @return whether it was written
	 */
	public synchronized boolean write(int value, Instant emittedAt) {
		try {
			this.file.write(value, emittedAt);
		}
		catch (IOException | RuntimeException ex) {
			failed(ex);
			return false;
		}
		this.successes.increment();
		if (this.consecutiveFailures > 0) {
			logger.info("State file {} is written again after {} failed write(s)", path(), this.consecutiveFailures);
		}
		this.consecutiveFailures = 0;
		this.lastError = null;
		this.healthy = true;
		return true;
	}

	private void failed(Exception ex) {
		this.failures.increment();
		this.consecutiveFailures++;
		this.lastError = StateFile.describe(ex);
		this.healthy = false;
		Instant now = this.clock.instant();
		if (this.lastErrorLoggedAt == null || !now.isBefore(this.lastErrorLoggedAt.plus(ERROR_LOG_INTERVAL))) {
			this.lastErrorLoggedAt = now;
			logger.error(
					"Could not write state file {} ({} failed write(s) in a row, logged at most once a "
							+ "minute); the sequence goes on and the value is kept in memory",
					path(), this.consecutiveFailures, ex);
		}
	}

	/**
	 * Why the last write failed, if it did.
	 * @return the failure, or {@code null} if the last write succeeded or none was made
	 */
	synchronized @Nullable Failure failure() {
		return (this.lastError != null) ? new Failure(this.lastError, this.consecutiveFailures) : null;
	}

	/**
	 * Why writes fail.
	 *
	 * @param error the error of the last write
	 * @param consecutiveFailures how many writes in a row failed
	 */
	record Failure(String error, long consecutiveFailures) {

	}

}

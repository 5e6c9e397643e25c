package com.example.gracefulsequence.sequence;

import java.time.Instant;

/**
 * One value of the sequence, as clients see it.
 *
 * @param value the random number
 * @param index how many values this process has produced, this one included (1-based); 0
 * for a value restored from the state file
 * @param emittedAt when the value was produced, or saved for a restored value
 * @param source whether the value was produced by this process or restored
 * @author graceful-sequence contributors
 */
public record SequenceValue(int value, long index, Instant emittedAt, Source source) {

	public static SequenceValue restored(int value, Instant savedAt) {
		return new SequenceValue(value, 0, savedAt, Source.RESTORED);
	}

	/**
	 * The id of the value's event in a stream: when it was emitted, in milliseconds since
	 * the epoch, which increases with every value and across restarts.
	 * @return the event id
	 */
	public long eventId() {
		return this.emittedAt.toEpochMilli();
	}

	/**
	 * Where a value comes from.
	 */
	public enum Source {

		/**
		 * Produced by this process.
		 */
		LIVE,

		/**
		 * Read from the state file at start-up.
		 */
		RESTORED

	}

}

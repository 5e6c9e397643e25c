package com.example.gracefulsequence.sequence;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * The latest value and the few before it, kept for streams that resume from an event id.
 *
 * @author graceful-sequence contributors
 */
final class RecentValues {

	private final int replay;

	private final Deque<SequenceValue> history = new ArrayDeque<>();

	private volatile @Nullable SequenceValue latest;

	/**
	 * Keep the latest value and up to the given number of values for replay.
	 * @param replay how many of the latest values to keep for resuming streams
	 */
	RecentValues(int replay) {
		this.replay = replay;
	}

	/**
	 * The latest value.
	 * @return the value, or {@code null} if there is none yet
	 */
	@Nullable SequenceValue latest() {
		return this.latest;
	}

	/**
	 * Make a value the latest, and keep it for replay.
	 * @param value the value
	 */
	void remember(SequenceValue value) {
		synchronized (this.history) {
			this.latest = value;
			if (this.replay > 0) {
				if (this.history.size() == this.replay) {
					this.history.removeFirst();
				}
				this.history.addLast(value);
			}
		}
	}

	/**
	 * Hold these values instead of those held until now.
	 * @param values the values, oldest first
	 */
	void replaceWith(List<SequenceValue> values) {
		synchronized (this.history) {
			this.history.clear();
			this.latest = null;
			values.forEach(this::remember);
		}
	}

	/**
	 * The values a stream starts with, by event id: every value held (the replay history
	 * and the latest) whose id is greater than the one the client had, oldest first, or
	 * none if it had the latest; the current value if it had no id, or one greater than
	 * the latest (another instance's, or from a clock that went back).
	 * @param lastEventId the id of the last event the client had, or -1 for none
	 * @return the values, oldest first
	 */
	List<SequenceValue> startingFrom(long lastEventId) {
		synchronized (this.history) {
			SequenceValue current = this.latest;
			if (current == null) {
				return List.of();
			}
			if (lastEventId < 0 || lastEventId > current.eventId()) {
				return List.of(current);
			}
			List<SequenceValue> after = new ArrayList<>();
			for (SequenceValue value : this.history) {
				if (value.eventId() > lastEventId) {
					after.add(value);
				}
			}
			if (after.isEmpty() && current.eventId() > lastEventId) {
				// Nothing is kept for replay; the latest is held all the same
				after.add(current);
			}
			return after;
		}
	}

}

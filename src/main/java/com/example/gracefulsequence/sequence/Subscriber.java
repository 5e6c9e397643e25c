package com.example.gracefulsequence.sequence;

import java.util.List;

/**
 * A client of the {@link SequenceHub}: a waiting long-poll or an open stream.
 *
 * @author graceful-sequence contributors
 */
public interface Subscriber {

	/**
	 * The client, by its address: the peer's, or the one a trusted proxy forwarded.
	 * @return the address
	 */
	String client();

	/**
	 * A new value: the one a long-poll waits for, or the next of a stream.
	 * @param value the value
	 */
	void onValue(SequenceValue value);

	/**
	 * New values together, oldest first, as a stream's lane hands over the values that
	 * waited for it: each in turn by default, or written at once.
	 * @param values the values
	 */
	default void onValues(List<SequenceValue> values) {
		values.forEach(this::onValue);
	}

	/**
	 * A value that a resuming stream missed, before the live ones.
	 * @param value the value
	 */
	default void onMissed(SequenceValue value) {
		onValue(value);
	}

	/**
	 * Take no value up to the given event id: a resuming stream whose client had it from
	 * an instance ahead of this one, which gets the values after it as they come.
	 * @param eventId the event id of the last value the client had
	 */
	default void skipThrough(long eventId) {
	}

	/**
	 * A heartbeat: if nothing was sent to the client since the given instant, tell it
	 * that the subscription is alive.
	 * @param quietSince an instant of the hub's ticker, in nanoseconds
	 */
	default void onHeartbeat(long quietSince) {
	}

	/**
	 * The hub stops serving this subscriber: say so to the client and end.
	 */
	void onClose();

	/**
	 * End now, whatever the client was not told yet.
	 */
	default void abort() {
	}

	/**
	 * Whether the subscriber has ended.
	 * @return {@code true} once it has ended
	 */
	default boolean isEnded() {
		return false;
	}

}

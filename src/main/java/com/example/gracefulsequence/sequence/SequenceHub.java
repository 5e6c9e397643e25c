package com.example.gracefulsequence.sequence;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

import org.jspecify.annotations.Nullable;

/**
 * Holds the latest value and hands each new one to its {@link Subscriber subscribers}:
 * waiting long-polls at once, open streams through the {@link StreamFanOut}, so that the
 * producer never waits on a client. It keeps the latest values for streams that resume
 * from an event id, takes subscribers while it has {@link SubscriberPlaces places} for
 * them, and takes no new stream once it is closed.
 *
 * @author graceful-sequence contributors
 */
public final class SequenceHub {

	private final SubscriberPlaces places;

	private final RecentValues recent;

	// Guarded by itself, as the latest value is written: a listener gets every value
	// once and in order, however its subscription and a publication meet
	private final List<Consumer<SequenceValue>> listeners = new ArrayList<>();

	private final Set<Subscriber> polls = ConcurrentHashMap.newKeySet();

	private final StreamFanOut streams;

	private volatile boolean closed;

	private volatile @Nullable SequenceOrigin origin;

	/**
	 * Create a hub.
	 * @param places the places of long-polls and streams
	 * @param replay how many of the latest values it keeps for resuming streams
	 * @param heartbeat how long a stream may be quiet before it gets a heartbeat; zero
	 * for none
	 * @param ticker elapsed time in nanoseconds, as {@link System#nanoTime()}
	 * @param restored the value restored from the state file, if any
	 */
	public SequenceHub(SubscriberPlaces places, int replay, Duration heartbeat, LongSupplier ticker,
			@Nullable SequenceValue restored) {
		this.places = places;
		this.recent = new RecentValues(replay);
		this.streams = new StreamFanOut(Runtime.getRuntime().availableProcessors(), heartbeat, ticker);
		if (restored != null) {
			this.recent.remember(restored);
		}
	}

	/**
	 * How many streams are open.
	 * @return the number of open streams
	 */
	int openStreams() {
		return this.streams.size();
	}

	/**
	 * How many long-polls wait for the next value.
	 * @return the number of waiting long-polls
	 */
	int waitingPolls() {
		return this.polls.size();
	}

	/**
	 * Have a listener told of the latest value at once, if there is one, and of each new
	 * one as it is published, before any subscriber: on the producer's thread, which it
	 * must not hold up.
	 * @param listener the listener
	 */
	public void onPublish(Consumer<SequenceValue> listener) {
		synchronized (this.listeners) {
			this.listeners.add(listener);
			SequenceValue current = this.recent.latest();
			if (current != null) {
				listener.accept(current);
			}
		}
	}

	/**
	 * The latest value, produced or restored.
	 * @return the value, or {@code null} if there is none yet
	 */
	public @Nullable SequenceValue latest() {
		return this.recent.latest();
	}

	/**
	 * Follow an origin other than this instance, before serving anyone: start from its
	 * history rather than the value restored from the state file, and ask it when a
	 * stream resumes from an id newer than the latest here.
	 * @param origin the origin
	 */
	public void follow(SequenceOrigin origin) {
		List<SequenceValue> history = origin.history();
		if (history != null && !history.isEmpty()) {
			startFrom(history);
		}
		this.origin = origin;
	}

	private void startFrom(List<SequenceValue> history) {
		synchronized (this.listeners) {
			this.recent.replaceWith(history);
			SequenceValue current = this.recent.latest();
			if (current != null) {
				for (Consumer<SequenceValue> listener : this.listeners) {
					listener.accept(current);
				}
			}
		}
	}

	/**
	 * Make a value the latest and hand it to every subscriber.
	 * @param value the new value
	 */
	public void publish(SequenceValue value) {
		synchronized (this.listeners) {
			this.recent.remember(value);
			for (Consumer<SequenceValue> listener : this.listeners) {
				listener.accept(value);
			}
		}
		for (Subscriber poll : this.polls) {
			if (unsubscribe(poll)) {
				poll.onValue(value);
			}
		}
		this.streams.publish(value);
	}

	/**
	 * The values a stream starts with, by event id.
	 * @param lastEventId the id of the last event the client had, or -1 for none
	 * @return the values, oldest first
	 * @see RecentValues#startingFrom(long)
	 */
	List<SequenceValue> startingFrom(long lastEventId) {
		return this.recent.startingFrom(lastEventId);
	}

	/**
	 * Have a long-poll wait for the next value, if the hub has a place for it.
	 * @param poll the long-poll
	 * @return whether it waits, or why not
	 */
	public Admission awaitNext(Subscriber poll) {
		Admission admission = this.places.take(poll.client());
		if (admission == Admission.TAKEN) {
			this.polls.add(poll);
		}
		return admission;
	}

	/**
	 * Take a place for a new stream, if the hub has one.
	 * @param client the address of the stream's client
	 * @return whether a place was taken, or why not
	 */
	public Admission admitStream(String client) {
		if (this.closed) {
			return Admission.CLOSED;
		}
		return this.places.take(client);
	}

	/**
	 * Subscribe a stream that was {@link #admitStream(String) admitted}: it gets the
	 * values after the given event id, or the current value, and then every new one,
	 * until it ends or the hub closes. An id newer than the latest here is asked of the
	 * origin this hub follows: an id it holds gets the values after it as they come,
	 * never an older one. Without an origin nobody holds such an id, and the stream
	 * starts with the current value.
	 * @param stream the stream
	 * @param lastEventId the id of the last event the client had, or -1
	 */
	public void subscribe(Subscriber stream, long lastEventId) {
		SequenceOrigin origin = this.origin;
		SequenceValue latest = latest();
		if (latest == null || lastEventId <= latest.eventId()) {
			join(stream, lastEventId);
		}
		else if (origin != null) {
			// This instance may lag behind the origin: never an older value than the
			// client had
			origin.holds(lastEventId, (held) -> join(stream, held ? lastEventId : -1));
		}
		else {
			join(stream, -1);
		}
	}

	private void join(Subscriber stream, long lastEventId) {
		// On the stream's lane, so that no value falls between the replay and the live
		// ones
		boolean accepted = this.streams.add(stream, () -> {
			if (stream.isEnded()) {
				// Ended before it was subscribed
				unsubscribe(stream);
				return;
			}
			SequenceValue latest = latest();
			if (latest != null && lastEventId > latest.eventId()) {
				// Held by the origin and not here yet: the values after it as they come
				stream.skipThrough(lastEventId);
			}
			else {
				for (SequenceValue value : startingFrom(lastEventId)) {
					stream.onMissed(value);
				}
			}
			if (this.closed) {
				stream.onClose();
			}
		});
		if (!accepted) {
			this.places.release(stream.client());
			stream.onClose();
		}
	}

	/**
	 * Forget a subscriber that has ended or been served.
	 * @param subscriber the subscriber
	 * @return whether it was still subscribed
	 */
	public boolean unsubscribe(Subscriber subscriber) {
		if (this.polls.remove(subscriber) || this.streams.remove(subscriber)) {
			this.places.release(subscriber.client());
			return true;
		}
		return false;
	}

	/**
	 * Stop every waiting long-poll: the service cannot wait for the next value any more.
	 */
	public void closePolls() {
		for (Subscriber poll : this.polls) {
			if (unsubscribe(poll)) {
				poll.onClose();
			}
		}
	}

	/**
	 * Close every open stream and take no new one; streams that do not end within a
	 * second are cut.
	 */
	public void closeStreams() {
		this.closed = true;
		this.streams.close();
	}

}

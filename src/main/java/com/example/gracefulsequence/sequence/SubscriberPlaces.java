package com.example.gracefulsequence.sequence;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The places of long-polls and streams: at most {@code sequence.max-subscribers} in all,
 * and at most {@code sequence.max-subscribers-per-client} for one client, so that one
 * client cannot take every place.
 *
 * @author graceful-sequence contributors
 */
public final class SubscriberPlaces {

	private final int max;

	private final int maxPerClient;

	private final AtomicInteger taken = new AtomicInteger();

	private final Map<String, Integer> takenByClient = new ConcurrentHashMap<>();

	/**
	 * Create the places.
	 * @param max how many in all
	 * @param maxPerClient how many for one client; 0 for no limit
	 */
	public SubscriberPlaces(int max, int maxPerClient) {
		this.max = max;
		this.maxPerClient = maxPerClient;
	}

	/**
	 * Take a place for the given client, if there is one.
	 * @param client the client's address
	 * @return whether a place was taken, or why not
	 */
	Admission take(String client) {
		if (this.taken.incrementAndGet() > this.max) {
			this.taken.decrementAndGet();
			return Admission.FULL;
		}
		if (this.maxPerClient > 0) {
			boolean[] refused = new boolean[1];
			this.takenByClient.compute(client, (key, count) -> {
				int held = (count != null) ? count : 0;
				refused[0] = held >= this.maxPerClient;
				return (refused[0]) ? count : held + 1;
			});
			if (refused[0]) {
				this.taken.decrementAndGet();
				return Admission.CLIENT_FULL;
			}
		}
		return Admission.TAKEN;
	}

	/**
	 * Give back a place that the given client took.
	 * @param client the client's address
	 */
	void release(String client) {
		this.taken.decrementAndGet();
		if (this.maxPerClient > 0) {
			this.takenByClient.computeIfPresent(client, (key, count) -> (count > 1) ? count - 1 : null);
		}
	}

	/**
	 * How many clients hold a place, when places are counted by client.
	 * @return the number of clients
	 */
	int clients() {
		return this.takenByClient.size();
	}

}

package com.example.gracefulsequence.sequence.web;

import com.example.gracefulsequence.problem.Problems;
import com.example.gracefulsequence.sequence.Admission;
import com.example.gracefulsequence.sequence.SequenceProperties;
import com.example.gracefulsequence.sequence.SubscriberCapacity;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.web.ErrorResponseException;

/**
 * The 503 problems of the sequence's endpoints, each with a {@code Retry-After} of a
 * period and {@code Connection: close}, so that a burst of refused clients does not keep
 * idle connections that others need: a full hub, a shutdown.
 *
 * @author graceful-sequence contributors
 */
@Component
final class Refusals {

	static final String SHUTTING_DOWN = "The service is shutting down and opens no new streams; connect again to "
			+ "another instance or after a restart";

	static final String STOPPED_WAITING = "The service is shutting down and stopped waiting for the next value; ask "
			+ "another instance, or again after a restart";

	private final String retryAfter;

	private final int maxSubscribers;

	private final int maxPerClient;

	Refusals(SequenceProperties properties, SubscriberCapacity capacity) {
		this.retryAfter = Long.toString(Math.max(1, properties.period().toSeconds()));
		this.maxSubscribers = capacity.maxSubscribers();
		this.maxPerClient = properties.maxSubscribersPerClient();
	}

	/**
	 * Why a subscriber was turned away.
	 * @param admission why the hub did not take it: full, or full for its client
	 * @param kind what was turned away
	 * @return the detail
	 */
	String turnedAway(Admission admission, Kind kind) {
		return (admission == Admission.CLIENT_FULL) ? tooManyFromClient(kind) : tooMany(kind);
	}

	private String tooManyFromClient(Kind kind) {
		return "Too many open streams and waiting long-polls from your address (sequence.max-subscribers-per-client is "
				+ this.maxPerClient + "); this " + kind.word + " was refused, close one or try again later";
	}

	private String tooMany(Kind kind) {
		return "Too many open streams and waiting long-polls (sequence.max-subscribers is " + this.maxSubscribers
				+ "); this " + kind.word + " was refused, try again later";
	}

	/**
	 * A 503 with the given detail.
	 * @param detail what happened and what to do
	 * @return the exception that Spring MVC answers as a problem
	 */
	ErrorResponseException unavailable(String detail) {
		ErrorResponseException ex = new ErrorResponseException(HttpStatus.SERVICE_UNAVAILABLE,
				Problems.of(HttpStatus.SERVICE_UNAVAILABLE, detail), null);
		ex.getHeaders().set(HttpHeaders.RETRY_AFTER, this.retryAfter);
		ex.getHeaders().set(HttpHeaders.CONNECTION, "close");
		return ex;
	}

	/**
	 * What a client was refused.
	 */
	enum Kind {

		/**
		 * A stream.
		 */
		STREAM("stream"),

		/**
		 * A long-poll.
		 */
		LONG_POLL("long-poll");

		private final String word;

		Kind(String word) {
			this.word = word;
		}

	}

}

package com.example.gracefulsequence.sequence;

/**
 * Whether the hub took a subscriber, or why not.
 *
 * @author graceful-sequence contributors
 */
public enum Admission {

	/**
	 * Taken.
	 */
	TAKEN,

	/**
	 * Turned away: {@code sequence.max-subscribers} are open.
	 */
	FULL,

	/**
	 * Turned away: {@code sequence.max-subscribers-per-client} of the client are open.
	 */
	CLIENT_FULL,

	/**
	 * Turned away: the hub is closed.
	 */
	CLOSED

}

package com.example.gracefulsequence.shutdown;

/**
 * The steps of a graceful shutdown, in the order they happen.
 *
 * @author graceful-sequence contributors
 */
public enum ShutdownStep {

	/**
	 * Readiness goes to {@code REFUSING_TRAFFIC}; every response from now on carries
	 * {@code Connection: close}.
	 */
	READINESS("readiness"),

	/**
	 * Every open stream is told the service is going and is completed.
	 */
	STREAMS("streams"),

	/**
	 * The service keeps serving for {@code shutdown.drain-delay} so that load balancers
	 * notice the readiness change.
	 */
	DRAIN_DELAY("drain-delay"),

	/**
	 * The port stops accepting and in-flight requests complete.
	 */
	HTTP_DRAIN("http-drain"),

	/**
	 * The producer stops.
	 */
	PRODUCER("producer"),

	/**
	 * The last value is written to the state file.
	 */
	STATE_FILE("state-file");

	private final String tag;

	ShutdownStep(String tag) {
		this.tag = tag;
	}

	/**
	 * The name of the step in logs and in the {@code phase} tag of the
	 * {@code shutdown.phase} timer.
	 * @return the name of the step
	 */
	public String tag() {
		return this.tag;
	}

	int number() {
		return ordinal() + 1;
	}

}

package com.example.gracefulsequence.shutdown;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.web.server.context.WebServerApplicationContext;

/**
 * The steps of a graceful shutdown, in the order they happen, with the lifecycle phase in
 * which each stops. Phases are relative to Spring Boot's
 * {@link WebServerApplicationContext#GRACEFUL_SHUTDOWN_PHASE}, in which the web server
 * waits for what the HTTP drain step left; Spring stops higher phases first.
 * <p>
 * The goodbye ({@link Goodbye}, {@code I'm leaving, bye!}) is not a step of this table:
 * the steps are timed and logged as they complete, and the goodbye must be the last line
 * the service writes, so nothing, not even the line that times it, may follow it.
 *
 * @author graceful-sequence contributors
 */
public enum ShutdownStep {

	/**
	 * Readiness goes to {@code REFUSING_TRAFFIC}; every response from now on carries
	 * {@code Connection: close}. Spring Boot publishes it first thing when the context
	 * closes, before any lifecycle phase.
	 */
	READINESS("readiness", null),

	/**
	 * In cluster mode the leader stops producing and releases its lease, so that a
	 * follower produces the next value on time; the instance keeps following the
	 * sequence. In local mode, or when the instance does not lead, it logs that there is
	 * nothing to hand over. First of the phases, so that telling thousands of streams to
	 * go, which can take a second, does not delay the next value.
	 */
	HANDOVER("handover", 4),

	/**
	 * Every open stream is told the service is going and is completed, before the drain
	 * delay: an open stream is a request in flight that would hold the HTTP drain, and
	 * its client can reconnect elsewhere at once.
	 */
	STREAMS("streams", 3),

	/**
	 * The service keeps serving for {@code shutdown.drain-delay} so that load balancers
	 * notice the readiness change.
	 */
	DRAIN_DELAY("drain-delay", 2),

	/**
	 * The port stops accepting and the requests in flight complete; the web server's own
	 * graceful shutdown, one phase later, only mops up.
	 */
	HTTP_DRAIN("http-drain", 1),

	/**
	 * The producer stops, after the web server has drained, so that requests waiting for
	 * the next value during the drain get it.
	 */
	PRODUCER("producer", -1),

	/**
	 * The last value is written to the state file, by a {@code @PreDestroy} method, once
	 * every phase has stopped.
	 */
	STATE_FILE("state-file", null);

	private final String tag;

	private final @Nullable Integer phaseOffset;

	ShutdownStep(String tag, @Nullable Integer phaseOffset) {
		this.tag = tag;
		this.phaseOffset = phaseOffset;
	}

	/**
	 * The name of the step in logs and in the {@code phase} tag of the
	 * {@code shutdown.phase} timer.
	 * @return the name of the step
	 */
	public String tag() {
		return this.tag;
	}

	/**
	 * The number of the step in logs, from 1.
	 * @return the number of the step
	 */
	public int number() {
		return ordinal() + 1;
	}

	/**
	 * The lifecycle phase in which the step's bean stops.
	 * @return the phase
	 * @throws IllegalStateException if the step is not performed by a lifecycle bean
	 */
	public int phase() {
		if (this.phaseOffset == null) {
			throw new IllegalStateException("Shutdown step " + this.tag + " is not a lifecycle phase");
		}
		return WebServerApplicationContext.GRACEFUL_SHUTDOWN_PHASE + this.phaseOffset;
	}

}

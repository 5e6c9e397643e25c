package com.example.gracefulsequence.sequence;

import java.util.List;
import java.util.function.Consumer;

import org.jspecify.annotations.Nullable;

/**
 * Where the hub's values come from, if not from this instance alone: a cluster's history,
 * read before the port opens, so that no client sees the restored value of an instance
 * that follows a cluster, and asked when a stream resumes from an id that the instance
 * has not seen yet.
 *
 * @author graceful-sequence contributors
 */
@FunctionalInterface
public interface SequenceOrigin {

	/**
	 * The values to start from instead of the one restored from the state file.
	 * @return the values, oldest first, or {@code null} to start from the restored one
	 */
	@Nullable List<SequenceValue> history();

	/**
	 * Tell whether the origin holds a value with the given event id or a later one: a
	 * stream resumes from an id newer than the instance's latest, which lags behind the
	 * origin, or the id is none of the origin's. Answers on any thread, never the
	 * caller's when it has to ask a server; when it cannot tell, it answers {@code true},
	 * so that a client is never answered with an older value.
	 * @param eventId the event id
	 * @param answer takes the answer
	 */
	default void holds(long eventId, Consumer<Boolean> answer) {
		answer.accept(false);
	}

}

package com.example.gracefulsequence.sequence;

import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * Where the hub's values come from when it starts, if not from the state file alone: a
 * cluster's history, read before the port opens, so that no client sees the restored
 * value of an instance that follows a cluster.
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

}

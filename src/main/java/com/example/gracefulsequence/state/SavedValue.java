package com.example.gracefulsequence.state;

import java.time.Instant;

/**
 * A value kept in the state file.
 *
 * @param value the last value of the sequence
 * @param savedAt when it was saved: when it was emitted, the file's modification time
 * @author graceful-sequence contributors
 */
public record SavedValue(int value, Instant savedAt) {

}

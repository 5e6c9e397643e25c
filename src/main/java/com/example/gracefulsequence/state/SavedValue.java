package com.example.gracefulsequence.state;

import java.time.Instant;

/**
 * A value read back from the state file.
 *
 * @param value the last value of the sequence
 * @param savedAt when the file was written
 * @author graceful-sequence contributors
 */
public record SavedValue(int value, Instant savedAt) {

}

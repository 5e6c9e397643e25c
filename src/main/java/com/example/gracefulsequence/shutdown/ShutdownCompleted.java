package com.example.gracefulsequence.shutdown;

/**
 * Published when the last shutdown step is done.
 *
 * @author graceful-sequence contributors
 */
record ShutdownCompleted() {

}

package com.example.gracefulsequence.shutdown;

/**
 * Published by the bean that performs a shutdown step as it begins the step.
 *
 * @param step the step that begins
 * @author graceful-sequence contributors
 */
record ShutdownStepStarted(ShutdownStep step) {

}

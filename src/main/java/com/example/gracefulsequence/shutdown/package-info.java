/**
 * The shutdown choreography: its steps, their timing, the drain delay, the overall
 * deadline and {@code Connection: close} while draining.
 */
@NullMarked
package com.example.gracefulsequence.shutdown;

import org.jspecify.annotations.NullMarked;

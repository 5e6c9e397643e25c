/**
 * The state file that keeps the last value of the sequence across restarts and crashes.
 */
@NullMarked
package com.example.gracefulsequence.state;

import org.jspecify.annotations.NullMarked;

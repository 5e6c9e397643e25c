/**
 * Cluster mode: one sequence for many instances, kept in Redis by one fenced leader at a
 * time and followed by every instance, handed over inside the graceful shutdown.
 */
@NullMarked
package com.example.gracefulsequence.sequence.cluster;

import org.jspecify.annotations.NullMarked;

/**
 * The random sequence: its producer, its values, their fan-out to waiting clients and
 * streams, and the HTTP endpoints that serve them.
 */
@NullMarked
package com.example.gracefulsequence.sequence;

import org.jspecify.annotations.NullMarked;

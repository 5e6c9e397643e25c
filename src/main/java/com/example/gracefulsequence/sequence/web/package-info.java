/**
 * The sequence's HTTP edge: the endpoints, the hot path, event streams and long-polls,
 * CORS, the live page, and the answers that turn a client away.
 */
@NullMarked
package com.example.gracefulsequence.sequence.web;

import org.jspecify.annotations.NullMarked;

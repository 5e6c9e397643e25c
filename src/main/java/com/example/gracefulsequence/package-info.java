/**
 * The graceful-sequence application: a random-sequence web service that shuts down
 * gracefully.
 */
@NullMarked
package com.example.gracefulsequence;

import org.jspecify.annotations.NullMarked;

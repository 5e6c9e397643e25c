/**
 * RFC 9457 problem details for every error the service answers, unknown paths included.
 */
@NullMarked
package com.example.gracefulsequence.problem;

import org.jspecify.annotations.NullMarked;

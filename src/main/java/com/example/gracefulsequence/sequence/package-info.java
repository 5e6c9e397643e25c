/**
 * The random sequence itself: its values, the producer, the hub that hands them to
 * waiting clients and open streams, and the cap on those; nothing of the web.
 */
@NullMarked
package com.example.gracefulsequence.sequence;

import org.jspecify.annotations.NullMarked;

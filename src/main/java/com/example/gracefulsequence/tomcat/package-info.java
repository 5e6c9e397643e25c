/**
 * Tomcat's connections tuned for long-lived streams: what each connection keeps, how many
 * there may be, and a way to close one at once.
 */
@NullMarked
package com.example.gracefulsequence.tomcat;

import org.jspecify.annotations.NullMarked;

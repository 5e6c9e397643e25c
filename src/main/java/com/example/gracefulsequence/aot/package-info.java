/**
 * The settings that Spring AOT fixes at build time, found and warned about when they are
 * changed at run time.
 */
@NullMarked
package com.example.gracefulsequence.aot;

import org.jspecify.annotations.NullMarked;

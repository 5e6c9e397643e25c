package com.example.gracefulsequence.sequence;

import java.nio.file.Path;
import java.time.Duration;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Configuration of the random sequence, bound from {@code sequence.*}.
 *
 * @param period time between two values; greater than zero
 * @param bound exclusive upper bound of each value; at least 1
 * @param seed fixed seed for the random generator: the same seed gives the same sequence
 * @param stateFile where the last value is kept, relative to the working directory
 * @param maxSubscribers open streams plus waiting long-polls; past it new ones get 503
 * @author graceful-sequence contributors
 */
@ConfigurationProperties("sequence")
public record SequenceProperties(@DefaultValue("2s") Duration period, @DefaultValue("120") int bound,
		@Nullable Long seed, @DefaultValue("last-num-from-seq.txt") Path stateFile,
		@DefaultValue("10000") int maxSubscribers) {

	// Validation lives here rather than in Bean Validation annotations: it keeps a
	// validator implementation (and its start-up cost) off the classpath, and Boot's
	// failure analyzer still reports the message below, which names the property.
	public SequenceProperties {
		if (period.isNegative() || period.isZero()) {
			throw new IllegalArgumentException(
					"sequence.period must be greater than 0, for example 2s, but was " + period);
		}
		if (bound < 1) {
			throw new IllegalArgumentException("sequence.bound must be at least 1, but was " + bound);
		}
		if (maxSubscribers < 0) {
			throw new IllegalArgumentException("sequence.max-subscribers must be 0 or more, but was " + maxSubscribers);
		}
		if (stateFile.toString().isBlank()) {
			throw new IllegalArgumentException("sequence.state-file must name a file, but was empty");
		}
	}

}

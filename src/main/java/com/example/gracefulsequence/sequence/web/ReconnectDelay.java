package com.example.gracefulsequence.sequence.web;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

import com.example.gracefulsequence.sequence.SequenceProperties;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * The {@code retry} that a stream client is sent when it is told to go or turned away: a
 * random delay from {@code sequence.stream.reconnect-delay} to twice that, so that the
 * clients of an instance that goes away do not all come back in the same millisecond.
 *
 * @author graceful-sequence contributors
 */
@Component
final class ReconnectDelay {

	private final long baseMillis;

	private final RandomGenerator random;

	@Autowired
	ReconnectDelay(SequenceProperties properties) {
		this(properties.stream().reconnectDelay(), new SplittableRandom());
	}

	ReconnectDelay(Duration base, RandomGenerator random) {
		this.baseMillis = Math.max(1, base.toMillis());
		this.random = random;
	}

	/**
	 * The delay for the next client.
	 * @return a delay from the base to twice the base, both included
	 */
	synchronized Duration retry() {
		return Duration.ofMillis(this.baseMillis + this.random.nextLong(this.baseMillis + 1));
	}

}

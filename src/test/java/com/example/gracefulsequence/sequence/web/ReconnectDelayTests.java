package com.example.gracefulsequence.sequence.web;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests of {@link ReconnectDelay}.
 *
 * @author graceful-sequence contributors
 */
class ReconnectDelayTests {

	@Test
	void eachClientGetsARandomDelayFromTheBaseToTwiceTheBase() {
		ReconnectDelay delay = new ReconnectDelay(Duration.ofSeconds(3), new SplittableRandom(7));
		Set<Duration> seen = new HashSet<>();
		for (int i = 0; i < 1000; i++) {
			Duration retry = delay.retry();
			assertThat(retry).isBetween(Duration.ofSeconds(3), Duration.ofSeconds(6));
			seen.add(retry);
		}
		// Spread out, so that the clients of an instance do not come back together
		assertThat(seen).hasSizeGreaterThan(500);
	}

}

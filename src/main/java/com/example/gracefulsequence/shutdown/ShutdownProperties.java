package com.example.gracefulsequence.shutdown;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * Configuration of the shutdown choreography, bound from {@code shutdown.*}.
 *
 * @param drainDelay after readiness goes down, how long to keep serving before the HTTP
 * drain starts (5s-10s behind a load balancer or on Kubernetes)
 * @param deadline hard cap on the whole shutdown; past it the process halts
 * @author graceful-sequence contributors
 */
@ConfigurationProperties("shutdown")
public record ShutdownProperties(@DefaultValue("0s") Duration drainDelay, @DefaultValue("60s") Duration deadline) {

	public ShutdownProperties {
		if (drainDelay.isNegative()) {
			throw new IllegalArgumentException("shutdown.drain-delay must be 0s or more, but was " + drainDelay);
		}
		if (deadline.isNegative() || deadline.isZero()) {
			throw new IllegalArgumentException("shutdown.deadline must be greater than 0, but was " + deadline);
		}
	}

}

package com.example.gracefulsequence.state;

import com.example.gracefulsequence.state.StateFileWriter.Failure;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * The {@code stateFile} health component: down, with the error, while writes of the state
 * file fail.
 *
 * @author graceful-sequence contributors
 */
@Component
final class StateFileHealthIndicator implements HealthIndicator {

	private final StateFileWriter writer;

	StateFileHealthIndicator(StateFileWriter writer) {
		this.writer = writer;
	}

	@Override
	public Health health() {
		Failure failure = this.writer.failure();
		Health.Builder health = (failure != null) ? Health.down()
			.withDetail("error", failure.error())
			.withDetail("consecutiveFailures", failure.consecutiveFailures()) : Health.up();
		return health.withDetail("path", this.writer.path().toString()).build();
	}

}

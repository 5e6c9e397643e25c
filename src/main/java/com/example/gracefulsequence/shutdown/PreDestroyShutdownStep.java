package com.example.gracefulsequence.shutdown;

import jakarta.annotation.PreDestroy;
import org.jspecify.annotations.Nullable;

import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.ApplicationEventPublisherAware;

/**
 * The bean that performs {@link ShutdownStep#STATE_FILE the last timed step}, in a
 * {@code @PreDestroy} method: Spring destroys beans once every lifecycle phase has
 * stopped. The shutdown's steps are complete when it returns; only the goodbye line
 * follows.
 *
 * @author graceful-sequence contributors
 */
public abstract class PreDestroyShutdownStep implements ApplicationEventPublisherAware {

	private @Nullable ApplicationEventPublisher events;

	@Override
	public final void setApplicationEventPublisher(ApplicationEventPublisher events) {
		this.events = events;
	}

	/**
	 * Perform the step, while the bean is destroyed.
	 */
	protected abstract void onDestroy();

	@PreDestroy
	public final void destroy() {
		publish(new ShutdownStepStarted(ShutdownStep.STATE_FILE));
		try {
			onDestroy();
		}
		finally {
			publish(new ShutdownCompleted());
		}
	}

	private void publish(Object event) {
		if (this.events != null) {
			this.events.publishEvent(event);
		}
	}

}

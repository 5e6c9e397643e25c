package com.example.gracefulsequence.shutdown;

import org.jspecify.annotations.Nullable;

import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.ApplicationEventPublisherAware;
import org.springframework.context.SmartLifecycle;

/**
 * A lifecycle bean that performs a shutdown step when it stops, in the step's
 * {@link ShutdownStep#phase() phase}. Shaped like Spring Boot's
 * {@code WebServerGracefulShutdownLifecycle}: an asynchronous stop that calls back when
 * the step is done.
 *
 * @author graceful-sequence contributors
 */
public abstract class ShutdownStepLifecycle implements SmartLifecycle, ApplicationEventPublisherAware {

	private final ShutdownStep step;

	private @Nullable ApplicationEventPublisher events;

	private volatile boolean running;

	/**
	 * Create the bean that performs the given step.
	 * @param step the step, which must be performed in a lifecycle phase
	 */
	protected ShutdownStepLifecycle(ShutdownStep step) {
		step.phase();
		this.step = step;
	}

	@Override
	public final void setApplicationEventPublisher(ApplicationEventPublisher events) {
		this.events = events;
	}

	/**
	 * Called when the application context starts; nothing by default.
	 */
	protected void onStart() {
	}

	/**
	 * Called when the application context stops this bean's phase: perform the step.
	 * @param callback to run when the step is done, on any thread
	 */
	protected abstract void onStop(Runnable callback);

	@Override
	public final void start() {
		onStart();
		this.running = true;
	}

	@Override
	public final void stop() {
		throw new UnsupportedOperationException("Stop must not be invoked directly");
	}

	@Override
	public final void stop(Runnable callback) {
		this.running = false;
		if (this.events != null) {
			this.events.publishEvent(new ShutdownStepStarted(this.step));
		}
		onStop(callback);
	}

	@Override
	public final boolean isRunning() {
		return this.running;
	}

	@Override
	public final int getPhase() {
		return this.step.phase();
	}

	@Override
	public final boolean isPauseable() {
		return false;
	}

}

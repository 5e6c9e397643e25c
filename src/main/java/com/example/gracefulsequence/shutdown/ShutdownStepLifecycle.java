package com.example.gracefulsequence.shutdown;

import org.springframework.context.SmartLifecycle;

/**
 * A shutdown step as a lifecycle bean: nothing to do on start, its work on stop, in a
 * phase relative to the web server's graceful shutdown. Shaped like Spring Boot's
 * {@code WebServerGracefulShutdownLifecycle}.
 *
 * @author graceful-sequence contributors
 */
public abstract class ShutdownStepLifecycle implements SmartLifecycle {

	private final int phase;

	private volatile boolean running;

	/**
	 * Create a step that stops in the given phase.
	 * @param phase the phase, relative to
	 * {@code WebServerApplicationContext.GRACEFUL_SHUTDOWN_PHASE}
	 */
	protected ShutdownStepLifecycle(int phase) {
		this.phase = phase;
	}

	/**
	 * Perform the step.
	 * @param callback to run when the step is done, on any thread
	 */
	protected abstract void perform(Runnable callback);

	@Override
	public final void start() {
		this.running = true;
	}

	@Override
	public final void stop() {
		throw new UnsupportedOperationException("Stop must not be invoked directly");
	}

	@Override
	public final void stop(Runnable callback) {
		this.running = false;
		perform(callback);
	}

	@Override
	public final boolean isRunning() {
		return this.running;
	}

	@Override
	public final int getPhase() {
		return this.phase;
	}

	@Override
	public final boolean isPauseable() {
		return false;
	}

}

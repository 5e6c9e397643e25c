package com.example.gracefulsequence.shutdown;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import jakarta.servlet.ServletException;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;

/**
 * The last valve of a pipeline that holds every request it gets until the test releases
 * them, as the blocking servlet of Spring Boot's own graceful-shutdown tests does:
 * in-flight work is controlled by a latch, not by time.
 *
 * @author graceful-sequence contributors
 */
final class BlockingRequests extends ValveBase {

	// A request is never held longer, so that a test that forgets to release it fails
	// instead of hanging
	private static final Duration HOLD_AT_MOST = Duration.ofSeconds(30);

	private final Semaphore arrived = new Semaphore(0);

	private final CountDownLatch released = new CountDownLatch(1);

	BlockingRequests() {
		super(true);
	}

	@Override
	public void invoke(Request request, Response response) throws ServletException {
		this.arrived.release();
		try {
			if (!this.released.await(HOLD_AT_MOST.toMillis(), TimeUnit.MILLISECONDS)) {
				throw new ServletException("Not released within " + HOLD_AT_MOST);
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new ServletException("Interrupted while held", ex);
		}
	}

	/**
	 * Wait until the given number of requests have arrived and are held.
	 * @param count the number of requests
	 * @param timeout how long to wait at most
	 * @return {@code true} if they arrived in time
	 * @throws InterruptedException if interrupted while waiting
	 */
	boolean awaitHeld(int count, Duration timeout) throws InterruptedException {
		if (!this.arrived.tryAcquire(count, timeout.toMillis(), TimeUnit.MILLISECONDS)) {
			return false;
		}
		this.arrived.release(count);
		return true;
	}

	/**
	 * Let every request held, and every one to come, complete.
	 */
	void release() {
		this.released.countDown();
	}

}

package com.example.gracefulsequence.shutdown;

import java.io.IOException;
import java.io.Serial;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * A servlet that holds every request it gets until the test releases them, as the
 * blocking servlet of Spring Boot's own graceful-shutdown tests does: in-flight work is
 * controlled by a latch, not by time. It also ends a filter chain, for a filter tested on
 * its own.
 *
 * @author graceful-sequence contributors
 */
final class BlockingRequests extends HttpServlet implements FilterChain {

	@Serial
	private static final long serialVersionUID = 1L;

	// A request is never held longer, so that a test that forgets to release it fails
	// instead of hanging
	private static final Duration HOLD_AT_MOST = Duration.ofSeconds(30);

	private final transient Semaphore arrived = new Semaphore(0);

	private final transient CountDownLatch released = new CountDownLatch(1);

	@Override
	protected void service(HttpServletRequest request, HttpServletResponse response) throws ServletException {
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

	@Override
	public void doFilter(ServletRequest request, ServletResponse response) throws IOException, ServletException {
		service(request, response);
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

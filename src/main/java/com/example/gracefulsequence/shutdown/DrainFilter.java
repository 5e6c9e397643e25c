package com.example.gracefulsequence.shutdown;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.event.EventListener;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Marks every response {@code Connection: close} while the service refuses traffic, so
 * that keep-alive clients move to a new connection before the port closes, and counts the
 * requests in flight, so that the drain ends the moment the last one completes (Spring
 * Boot's own wait looks every 50 ms) and a cut drain can say how many it cut.
 *
 * @author graceful-sequence contributors
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
final class DrainFilter extends OncePerRequestFilter {

	private final AtomicLong inFlight = new AtomicLong();

	private final Object idle = new Object();

	private final AsyncListener countCompletion = new CountCompletion();

	private volatile boolean closing;

	@EventListener
	void onReadinessChange(AvailabilityChangeEvent<ReadinessState> event) {
		this.closing = event.getState() == ReadinessState.REFUSING_TRAFFIC;
	}

	long inFlight() {
		return this.inFlight.get();
	}

	/**
	 * Wait until no request is in flight.
	 * @param timeout how long to wait at most
	 * @return whether no request is in flight
	 * @throws InterruptedException if interrupted while waiting
	 */
	boolean awaitIdle(Duration timeout) throws InterruptedException {
		long deadline = System.nanoTime() + timeout.toNanos();
		synchronized (this.idle) {
			while (this.inFlight.get() > 0) {
				long left = deadline - System.nanoTime();
				if (left <= 0) {
					return false;
				}
				this.idle.wait(Math.max(1, left / 1_000_000));
			}
		}
		return true;
	}

	private void completed() {
		if (this.inFlight.decrementAndGet() == 0 && this.closing) {
			synchronized (this.idle) {
				this.idle.notifyAll();
			}
		}
	}

	@Override
	protected boolean shouldNotFilterAsyncDispatch() {
		return false;
	}

	@Override
	protected boolean shouldNotFilterErrorDispatch() {
		return false;
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		markIfClosing(response);
		if (isAsyncDispatch(request)) {
			chain.doFilter(request, response);
			return;
		}
		this.inFlight.incrementAndGet();
		try {
			chain.doFilter(request, response);
		}
		finally {
			if (request.isAsyncStarted()) {
				request.getAsyncContext().addListener(this.countCompletion);
			}
			else {
				completed();
			}
		}
	}

	@Override
	protected void doFilterNestedErrorDispatch(HttpServletRequest request, HttpServletResponse response,
			FilterChain chain) throws ServletException, IOException {
		markIfClosing(response);
		chain.doFilter(request, response);
	}

	private void markIfClosing(HttpServletResponse response) {
		if (this.closing) {
			response.setHeader(HttpHeaders.CONNECTION, "close");
		}
	}

	private final class CountCompletion implements AsyncListener {

		@Override
		public void onComplete(AsyncEvent event) {
			completed();
		}

		@Override
		public void onTimeout(AsyncEvent event) {
		}

		@Override
		public void onError(AsyncEvent event) {
		}

		@Override
		public void onStartAsync(AsyncEvent event) {
		}

	}

}

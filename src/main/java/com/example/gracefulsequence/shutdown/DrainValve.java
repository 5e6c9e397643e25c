package com.example.gracefulsequence.shutdown;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.ServletException;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;

import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.event.EventListener;
import org.springframework.http.HttpHeaders;
import org.springframework.stereotype.Component;

/**
 * The first valve of every request: marks the response {@code Connection: close} while
 * the service refuses traffic, so that keep-alive clients move to a new connection before
 * the port closes, and counts the requests in flight, so that the HTTP drain ends the
 * moment the last one completes and a cut drain can say how many it cut. A valve rather
 * than a servlet filter, so that the hot path, the valve after it, has both too.
 *
 * @author graceful-sequence contributors
 */
@Component
final class DrainValve extends ValveBase {

	private final AtomicLong inFlight = new AtomicLong();

	private final Object idle = new Object();

	private final AsyncListener countCompletion = new CountCompletion();

	private volatile boolean closing;

	DrainValve() {
		super(true);
	}

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

	@Override
	public void invoke(Request request, Response response) throws IOException, ServletException {
		if (this.closing) {
			response.setHeader(HttpHeaders.CONNECTION, "close");
		}
		// An asynchronous request is counted once, from its start to its completion
		if (request.getDispatcherType() == DispatcherType.ASYNC) {
			getNext().invoke(request, response);
			return;
		}
		this.inFlight.incrementAndGet();
		try {
			getNext().invoke(request, response);
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

	private void completed() {
		if (this.inFlight.decrementAndGet() == 0 && this.closing) {
			synchronized (this.idle) {
				this.idle.notifyAll();
			}
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

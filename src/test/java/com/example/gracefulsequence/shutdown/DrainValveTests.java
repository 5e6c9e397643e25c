package com.example.gracefulsequence.shutdown;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.DispatcherType;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.junit.jupiter.api.Test;
import org.mockito.ArgumentCaptor;

import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.BDDMockito.given;
import static org.mockito.BDDMockito.then;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;

/**
 * Tests for {@link DrainValve}: {@code Connection: close} while draining, the in-flight
 * count and the wait for it to reach zero, which ends the HTTP drain the moment the last
 * request completes.
 *
 * @author graceful-sequence contributors
 */
class DrainValveTests {

	private final DrainValve valve = new DrainValve();

	private final BlockingRequests requests = new BlockingRequests();

	DrainValveTests() {
		this.valve.setNext(this.requests);
	}

	private static Request request(DispatcherType type) {
		Request request = mock(Request.class);
		given(request.getDispatcherType()).willReturn(type);
		return request;
	}

	private CompletableFuture<Void> heldRequest() {
		return CompletableFuture.runAsync(() -> {
			try {
				this.valve.invoke(request(DispatcherType.REQUEST), mock(Response.class));
			}
			catch (Exception ex) {
				throw new IllegalStateException(ex);
			}
		});
	}

	@Test
	void theWaitEndsWhenTheLastRequestCompletesNotWhenItTimesOut() throws Exception {
		CompletableFuture<Void> request = heldRequest();
		assertThat(this.requests.awaitHeld(1, Duration.ofSeconds(10))).isTrue();
		this.valve.onReadinessChange(refusingTraffic());
		CompletableFuture<Boolean> idle = CompletableFuture.supplyAsync(this::awaitIdleForAnHour);
		assertThat(this.valve.inFlight()).isOne();
		assertThat(idle).isNotDone();
		this.requests.release();
		assertThat(idle.get(10, TimeUnit.SECONDS)).isTrue();
		assertThat(this.valve.inFlight()).isZero();
		request.get(10, TimeUnit.SECONDS);
		assertThat(request).isCompleted();
	}

	@Test
	void theWaitGivesUpAfterItsTimeoutWithARequestStillInFlight() throws Exception {
		CompletableFuture<Void> request = heldRequest();
		assertThat(this.requests.awaitHeld(1, Duration.ofSeconds(10))).isTrue();
		this.valve.onReadinessChange(refusingTraffic());
		assertThat(this.valve.awaitIdle(Duration.ofMillis(50))).isFalse();
		assertThat(this.valve.inFlight()).isOne();
		this.requests.release();
		request.get(10, TimeUnit.SECONDS);
	}

	@Test
	void withNothingInFlightTheWaitEndsAtOnce() throws InterruptedException {
		assertThat(this.valve.awaitIdle(Duration.ZERO)).isTrue();
	}

	@Test
	void responsesSayConnectionCloseOnlyOnceReadinessRefusesTraffic() throws Exception {
		this.requests.release();
		Response before = mock(Response.class);
		this.valve.invoke(request(DispatcherType.REQUEST), before);
		then(before).should(never()).setHeader("Connection", "close");
		this.valve.onReadinessChange(refusingTraffic());
		Response during = mock(Response.class);
		this.valve.invoke(request(DispatcherType.REQUEST), during);
		then(during).should().setHeader("Connection", "close");
		Response dispatched = mock(Response.class);
		this.valve.invoke(request(DispatcherType.ASYNC), dispatched);
		then(dispatched).should().setHeader("Connection", "close");
	}

	@Test
	void anAsynchronousRequestIsInFlightUntilItCompletesAndCountedOnce() throws Exception {
		this.requests.release();
		Request request = request(DispatcherType.REQUEST);
		AsyncContext async = mock(AsyncContext.class);
		given(request.isAsyncStarted()).willReturn(true);
		given(request.getAsyncContext()).willReturn(async);
		this.valve.invoke(request, mock(Response.class));
		assertThat(this.valve.inFlight()).isOne();
		// Its dispatch, when the result is there, is the same request
		this.valve.invoke(request(DispatcherType.ASYNC), mock(Response.class));
		assertThat(this.valve.inFlight()).isOne();
		ArgumentCaptor<AsyncListener> listener = ArgumentCaptor.forClass(AsyncListener.class);
		then(async).should().addListener(listener.capture());
		listener.getValue().onComplete(new AsyncEvent(async));
		assertThat(this.valve.inFlight()).isZero();
	}

	private boolean awaitIdleForAnHour() {
		try {
			return this.valve.awaitIdle(Duration.ofHours(1));
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return false;
		}
	}

	private static AvailabilityChangeEvent<ReadinessState> refusingTraffic() {
		return new AvailabilityChangeEvent<>(new Object(), ReadinessState.REFUSING_TRAFFIC);
	}

}

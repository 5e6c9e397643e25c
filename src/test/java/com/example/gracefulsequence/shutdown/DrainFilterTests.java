package com.example.gracefulsequence.shutdown;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import jakarta.servlet.http.HttpServletResponse;
import org.junit.jupiter.api.Test;

import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link DrainFilter}: the in-flight count and the wait for it to reach zero,
 * which ends the HTTP drain the moment the last request completes.
 *
 * @author graceful-sequence contributors
 */
class DrainFilterTests {

	private final DrainFilter filter = new DrainFilter();

	private final BlockingRequests requests = new BlockingRequests();

	@Test
	void theWaitEndsWhenTheLastRequestCompletesNotWhenItTimesOut() throws Exception {
		CompletableFuture<HttpServletResponse> request = CompletableFuture.supplyAsync(() -> {
			MockHttpServletResponse response = new MockHttpServletResponse();
			try {
				this.filter.doFilter(new MockHttpServletRequest("GET", "/slow"), response, this.requests);
			}
			catch (Exception ex) {
				throw new IllegalStateException(ex);
			}
			return response;
		});
		assertThat(this.requests.awaitHeld(1, Duration.ofSeconds(10))).isTrue();
		this.filter.onReadinessChange(refusingTraffic());
		CompletableFuture<Boolean> idle = CompletableFuture.supplyAsync(this::awaitIdleForAnHour);
		assertThat(this.filter.inFlight()).isOne();
		assertThat(idle).isNotDone();
		this.requests.release();
		assertThat(idle.get(10, TimeUnit.SECONDS)).isTrue();
		assertThat(this.filter.inFlight()).isZero();
		assertThat(request.get(10, TimeUnit.SECONDS).getStatus()).isEqualTo(200);
	}

	@Test
	void theWaitGivesUpAfterItsTimeoutWithARequestStillInFlight() throws Exception {
		CompletableFuture<Void> request = CompletableFuture.runAsync(() -> {
			try {
				this.filter.doFilter(new MockHttpServletRequest("GET", "/slow"), new MockHttpServletResponse(),
						this.requests);
			}
			catch (Exception ex) {
				throw new IllegalStateException(ex);
			}
		});
		assertThat(this.requests.awaitHeld(1, Duration.ofSeconds(10))).isTrue();
		this.filter.onReadinessChange(refusingTraffic());
		assertThat(this.filter.awaitIdle(Duration.ofMillis(50))).isFalse();
		assertThat(this.filter.inFlight()).isOne();
		this.requests.release();
		request.get(10, TimeUnit.SECONDS);
	}

	@Test
	void withNothingInFlightTheWaitEndsAtOnce() throws InterruptedException {
		assertThat(this.filter.awaitIdle(Duration.ZERO)).isTrue();
	}

	private boolean awaitIdleForAnHour() {
		try {
			return this.filter.awaitIdle(Duration.ofHours(1));
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

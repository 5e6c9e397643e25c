package com.example.gracefulsequence;

import io.micrometer.core.instrument.MeterRegistry;

import org.springframework.test.web.servlet.client.RestTestClient;

/**
 * The service's meters as tests read them in the application's own registry.
 *
 * @author graceful-sequence contributors
 */
public final class Meters {

	private Meters() {
	}

	/**
	 * How many subscribers of a kind the service holds now: the gauge
	 * {@code sequence.subscribers}.
	 * @param registry the application's registry
	 * @param kind {@code stream} for open streams, {@code poll} for waiting long-polls
	 * @return the number of subscribers
	 */
	public static double subscribers(MeterRegistry registry, String kind) {
		return registry.get("sequence.subscribers").tag("kind", kind).gauge().value();
	}

	/**
	 * Scrape the application's meters as Prometheus does.
	 * @param client a client of the running application
	 * @return the text of {@code /actuator/prometheus}
	 */
	public static String scrape(RestTestClient client) {
		String exposition = client.get()
			.uri("/actuator/prometheus")
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody(String.class)
			.returnResult()
			.getResponseBody();
		return (exposition != null) ? exposition : "";
	}

}

package com.example.gracefulsequence.deploy;

import java.time.Duration;

import org.springframework.http.HttpStatus;
import org.springframework.test.web.servlet.client.RestTestClient;

/**
 * What a proxy's inactivity timeout means for the long-polls the application accepts.
 *
 * @author graceful-sequence contributors
 */
final class ProxyTimeouts {

	// Besides the wait itself: producing the answer and carrying it through the proxy
	private static final Duration LONG_POLL_MARGIN = Duration.ofSeconds(5);

	private ProxyTimeouts() {
	}

	/**
	 * Check that the application refuses a long-poll that would wait almost as long as
	 * the proxy's timeout allows, naming the parameter.
	 * @param client a client of the application
	 * @param proxyTimeout the proxy's timeout for a response that sends nothing
	 */
	static void aLongPollThatOutlastsItIsRefused(RestTestClient client, Duration proxyTimeout) {
		client.get()
			.uri("/sequence/next?timeout={timeout}ms", proxyTimeout.minus(LONG_POLL_MARGIN).toMillis())
			.exchange()
			.expectStatus()
			.isEqualTo(HttpStatus.BAD_REQUEST)
			.expectBody()
			.jsonPath("$.parameter")
			.isEqualTo("timeout");
	}

}

package com.example.gracefulsequence.deploy;

import java.io.IOException;

import com.example.gracefulsequence.EventStream.Event;
import com.example.gracefulsequence.HttpConnection;
import com.example.gracefulsequence.StreamConnection;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a client sees when a proxy in front of the service answers for itself, because no
 * instance can: an RFC 9457 problem, as the service answers its own errors, that says
 * when to try again and closes the connection; and for a stream a {@code 200} event
 * stream with a {@code busy} event, which an {@code EventSource} retries where it would
 * give up for good on any other status. Checked in the shipped files and against the
 * running proxies.
 *
 * @author graceful-sequence contributors
 */
final class ProxyProblems {

	private static final JsonMapper json = JsonMapper.builder().build();

	private ProxyProblems() {
	}

	/**
	 * Read a problem and check it: {@code about:blank}, a title, the given status and a
	 * detail in words. An HTML page fails to parse.
	 * @param body the body, as JSON
	 * @param status the status it must carry, that of its answer
	 * @return the problem
	 */
	static Problem problem(String body, int status) {
		Problem problem = json.readValue(body, Problem.class);
		assertThat(problem.type()).as(body).isEqualTo("about:blank");
		assertThat(problem.title()).as(body).isNotBlank();
		assertThat(problem.status()).as("the status in %s", body).isEqualTo(status);
		assertThat(problem.detail()).as(body).isNotBlank();
		return problem;
	}

	/**
	 * Check the body of a busy answer as a proxy's file writes it: a retry, a
	 * {@code busy} event and a {@code 503} problem as its data, as the service turns away
	 * a stream.
	 * @param body the body, newlines as they go on the wire
	 * @return the problem of its data
	 */
	static Problem busyEvent(String body) {
		assertThat(body).as("retry, event and data, each on a line, and a blank line")
			.matches("(?s)retry: [1-9][0-9]*\nevent: busy\ndata: \\{[^\n]*\\}\n\n");
		String data = body.substring(body.indexOf("data: ") + "data: ".length(), body.length() - 2);
		return problem(data, 503);
	}

	/**
	 * Ask a proxy for the last value where the proxy answers itself: its own problem,
	 * with {@code Retry-After} and {@code Connection: close}.
	 * @param proxyPort the proxy's port
	 * @param status the status the proxy gives
	 * @return the problem
	 * @throws IOException if the exchange fails
	 */
	static Problem aRequestGetsTheProxysOwnProblem(int proxyPort, int status) throws IOException {
		HttpConnection.Response response = HttpConnection.get(proxyPort, "/sequence/last");
		assertThat(response.status()).as(response.body()).isEqualTo(status);
		assertThat(response.header("Content-Type")).isEqualTo("application/problem+json");
		assertThat(response.header("Retry-After")).as("seconds to wait before trying again")
			.isNotNull()
			.matches("[1-9][0-9]*");
		assertThat(response.closesConnection()).as("Connection: close").isTrue();
		return problem(response.body(), status);
	}

	/**
	 * Open a stream through a proxy where the proxy answers itself: its own {@code 200}
	 * event stream with a retry and one {@code busy} event, then the end of the stream
	 * and of the connection.
	 * @param proxyPort the proxy's port
	 * @return the problem of the busy event's data
	 * @throws IOException if the exchange fails
	 */
	static Problem aStreamGetsTheProxysOwnBusyEvent(int proxyPort) throws IOException {
		try (StreamConnection stream = StreamConnection.open(proxyPort, "/sequence/stream",
				StreamConnection.EVENT_STREAM)) {
			assertThat(stream.status()).as("an EventSource gives up for good on any other status").isEqualTo(200);
			assertThat(stream.header("Content-Type")).startsWith("text/event-stream");
			assertThat(stream.header("Connection")).isEqualToIgnoringCase("close");
			Event busy = stream.next();
			assertThat(busy).as("an event").isNotNull();
			assertThat(busy.name()).isEqualTo("busy");
			assertThat(busy.retry()).as("retry: sent with it").isNotNull().isPositive();
			Problem problem = problem(busy.data(), 503);
			assertThat(stream.next()).as("nothing after the busy event").isNull();
			assertThat(stream.isClosedByServer()).as("the connection closed after it").isTrue();
			return problem;
		}
	}

	/**
	 * An RFC 9457 problem as the service and the proxies write it.
	 *
	 * @param type the type, {@code about:blank}
	 * @param title the status's reason phrase
	 * @param status the HTTP status
	 * @param detail what happened and what to do, in words
	 */
	record Problem(String type, String title, int status, String detail) {

	}

}

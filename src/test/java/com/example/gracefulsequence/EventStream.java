package com.example.gracefulsequence;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;

import org.jspecify.annotations.Nullable;

/**
 * A client of {@code /sequence/stream} for tests: reads server-sent events one at a time
 * over a real HTTP connection.
 *
 * @author graceful-sequence contributors
 */
public final class EventStream implements AutoCloseable {

	private final HttpResponse<Stream<String>> response;

	private final Iterator<String> lines;

	private EventStream(HttpResponse<Stream<String>> response) {
		this.response = response;
		this.lines = response.body().iterator();
	}

	/**
	 * Open a stream.
	 * @param client the HTTP client
	 * @param port the port of the service
	 * @param query the query string, or an empty string
	 * @return the open stream
	 * @throws IOException if the request fails
	 * @throws InterruptedException if interrupted while connecting
	 */
	public static EventStream open(HttpClient client, int port, String query) throws IOException, InterruptedException {
		return open(client, port, query, null);
	}

	/**
	 * Open a stream that resumes after an event id, as an {@code EventSource} does when
	 * it reconnects.
	 * @param client the HTTP client
	 * @param port the port of the service
	 * @param query the query string, or an empty string
	 * @param lastEventId the {@code Last-Event-ID} to send, or {@code null} for none
	 * @return the open stream
	 * @throws IOException if the request fails
	 * @throws InterruptedException if interrupted while connecting
	 */
	public static EventStream open(HttpClient client, int port, String query, @Nullable String lastEventId)
			throws IOException, InterruptedException {
		HttpRequest.Builder request = HttpRequest
			.newBuilder(URI.create("http://127.0.0.1:" + port + "/sequence/stream" + query))
			.timeout(Duration.ofSeconds(10))
			.header("Accept", "text/event-stream");
		if (lastEventId != null) {
			request.header("Last-Event-ID", lastEventId);
		}
		return new EventStream(client.send(request.build(), BodyHandlers.ofLines()));
	}

	/**
	 * The HTTP response.
	 * @return the response, whose body is read by {@link #next()}
	 */
	public HttpResponse<Stream<String>> response() {
		return this.response;
	}

	/**
	 * Read the next event.
	 * @return the event, or {@code null} at the end of the stream
	 */
	public @Nullable Event next() {
		List<String> fields = new ArrayList<>();
		while (this.lines.hasNext()) {
			String line = this.lines.next();
			if (line.startsWith(":")) {
				// A comment, which an EventSource ignores
				continue;
			}
			if (line.isEmpty()) {
				if (!fields.isEmpty()) {
					return Event.of(fields);
				}
			}
			else {
				fields.add(line);
			}
		}
		return null;
	}

	@Override
	public void close() {
		this.response.body().close();
	}

	/**
	 * One server-sent event.
	 *
	 * @param name the event name
	 * @param id the event id, or {@code null}
	 * @param retry the reconnection time in milliseconds, or {@code null}
	 * @param data the data
	 */
	public record Event(@Nullable String name, @Nullable String id, @Nullable Long retry, String data) {

		/**
		 * Read an event from its fields.
		 * @param fields the lines of the event
		 * @return the event
		 */
		public static Event of(List<String> fields) {
			String name = null;
			String id = null;
			Long retry = null;
			StringBuilder data = new StringBuilder();
			for (String field : fields) {
				if (field.startsWith("event:")) {
					name = field.substring(6).strip();
				}
				else if (field.startsWith("id:")) {
					id = field.substring(3).strip();
				}
				else if (field.startsWith("retry:")) {
					retry = Long.valueOf(field.substring(6).strip());
				}
				else if (field.startsWith("data:")) {
					data.append(field.substring(5).strip());
				}
			}
			return new Event(name, id, retry, data.toString());
		}

	}

}

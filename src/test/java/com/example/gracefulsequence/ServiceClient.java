package com.example.gracefulsequence;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * The service on loopback through the JDK's {@link HttpClient}, for tests that start the
 * whole application on a random port: requests with any method and headers, each bounded
 * by a timeout, answers read as text. Where a test must see which connection a request
 * went over, or headers the JDK's client keeps to itself, it uses {@link HttpConnection}.
 *
 * @author graceful-sequence contributors
 */
public final class ServiceClient {

	private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

	private final HttpClient httpClient = HttpClient.newHttpClient();

	private final int port;

	private final Duration timeout;

	/**
	 * A client of the service on the given port, whose requests time out after ten
	 * seconds.
	 * @param port the port
	 */
	public ServiceClient(int port) {
		this(port, DEFAULT_TIMEOUT);
	}

	/**
	 * A client of the service on the given port.
	 * @param port the port
	 * @param timeout how long a request may take until its answer begins
	 */
	public ServiceClient(int port, Duration timeout) {
		this.port = port;
		this.timeout = timeout;
	}

	/**
	 * The JDK client this one sends with, for what reads the answer another way, such as
	 * an {@code EventStream}.
	 * @return the client
	 */
	public HttpClient httpClient() {
		return this.httpClient;
	}

	/**
	 * The URI of a path on the service.
	 * @param path the path and query
	 * @return the URI
	 */
	private URI uri(String path) {
		return URI.create("http://127.0.0.1:" + this.port + path);
	}

	/**
	 * A request without a body, with this client's timeout.
	 * @param method the method
	 * @param path the path and query
	 * @param headers header names and values, one after the other
	 * @return the request
	 */
	private HttpRequest request(String method, String path, String... headers) {
		if (headers.length % 2 != 0) {
			throw new IllegalArgumentException("A header name without a value: " + String.join(", ", headers));
		}
		HttpRequest.Builder request = HttpRequest.newBuilder(uri(path))
			.timeout(this.timeout)
			.method(method, HttpRequest.BodyPublishers.noBody());
		for (int i = 0; i < headers.length; i += 2) {
			request.header(headers[i], headers[i + 1]);
		}
		return request.build();
	}

	/**
	 * Send a {@code GET} and read the answer.
	 * @param path the path and query
	 * @param headers header names and values, one after the other
	 * @return the response
	 */
	public HttpResponse<String> get(String path, String... headers) {
		return send("GET", path, headers);
	}

	/**
	 * Send a {@code GET} without waiting for the answer, such as a long-poll.
	 * @param path the path and query
	 * @return the response to come
	 */
	public CompletableFuture<HttpResponse<String>> getAsync(String path) {
		return this.httpClient.sendAsync(request("GET", path), BodyHandlers.ofString());
	}

	/**
	 * Send a request without a body and read the answer.
	 * @param method the method
	 * @param path the path and query
	 * @param headers header names and values, one after the other
	 * @return the response
	 */
	public HttpResponse<String> send(String method, String path, String... headers) {
		HttpRequest request = request(method, path, headers);
		try {
			return this.httpClient.send(request, BodyHandlers.ofString());
		}
		catch (IOException ex) {
			throw new UncheckedIOException(method + " " + path, ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted during " + method + " " + path, ex);
		}
	}

}

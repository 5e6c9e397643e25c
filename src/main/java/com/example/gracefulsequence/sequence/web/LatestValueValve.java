package com.example.gracefulsequence.sequence.web;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;

import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;

/**
 * The hot path: answers the plain {@code GET /sequence/last} with the rendered value, in
 * Tomcat's pipeline right after the drain valve, without the servlet filters, Spring
 * MVC's dispatch and the request observation, which together cost several times the rest
 * of the request; it records the answer in the timer that the observation uses. Any other
 * request on that path (another method, a query, a conditional request, a cross-origin
 * request, an {@code Accept} other than exactly JSON or anything, no value yet) goes on
 * to {@link SequenceController}, which gives the same answer, or the problem that the
 * request deserves.
 *
 * @author graceful-sequence contributors
 */
final class LatestValueValve extends ValveBase {

	static final String PATH = "/sequence/last";

	private static final String JSON = MediaType.APPLICATION_JSON_VALUE;

	private final ValueRenderer renderer;

	private final Timer requests;

	LatestValueValve(ValueRenderer renderer, MeterRegistry meterRegistry) {
		super(true);
		this.renderer = renderer;
		// The meter that the observation of a successful GET on this path records to
		this.requests = Timer.builder("http.server.requests")
			.tag("error", "none")
			.tag("exception", "none")
			.tag("method", "GET")
			.tag("outcome", "SUCCESS")
			.tag("status", "200")
			.tag("uri", PATH)
			.register(meterRegistry);
	}

	@Override
	public void invoke(Request request, Response response) throws IOException, ServletException {
		RenderedValue latest = PATH.equals(request.getRequestURI()) ? this.renderer.latest() : null;
		if (latest == null || !isPlainGet(request)) {
			getNext().invoke(request, response);
			return;
		}
		long started = System.nanoTime();
		latest.writeTo(response);
		this.requests.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
	}

	private static boolean isPlainGet(HttpServletRequest request) {
		if (!"GET".equals(request.getMethod()) || request.getQueryString() != null
				|| request.getHeader(HttpHeaders.IF_NONE_MATCH) != null
				|| request.getHeader(HttpHeaders.ORIGIN) != null) {
			return false;
		}
		String accept = request.getHeader(HttpHeaders.ACCEPT);
		return accept == null || accept.equals(MediaType.ALL_VALUE) || accept.equals(JSON);
	}

}

package com.example.gracefulsequence.sequence.web;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

import com.example.gracefulsequence.problem.Problems;
import com.example.gracefulsequence.sequence.Admission;
import com.example.gracefulsequence.sequence.SequenceHub;
import com.example.gracefulsequence.sequence.SequenceValue;
import com.example.gracefulsequence.sequence.Subscriber;
import com.example.gracefulsequence.tomcat.CloseNowValve;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;

/**
 * {@code GET /sequence/stream}: opens a stream of server-sent events on the servlet
 * request, written by a {@link StreamSubscriber}. During shutdown or past the limit, a
 * client that speaks server-sent events is told when to come back in a one-event stream;
 * any other gets a 503 problem.
 *
 * @author graceful-sequence contributors
 */
@Component
final class EventStreams {

	private static final String SHUTDOWN_DATA = "{\"reason\":\"shutting down\"}";

	/**
	 * A comment line, which every {@code EventSource} ignores, for a stream that has been
	 * quiet: proxies cut a response that has sent nothing for their read timeout.
	 */
	static final byte[] HEARTBEAT = ": heartbeat\n\n".getBytes(StandardCharsets.UTF_8);

	private static final Pattern EVENT_ID = Pattern.compile("[0-9]{1,18}");

	private final SequenceHub hub;

	private final ValueRenderer renderer;

	private final ReconnectDelay reconnectDelay;

	private final Refusals refusals;

	private final JsonMapper jsonMapper;

	EventStreams(SequenceHub hub, ValueRenderer renderer, ReconnectDelay reconnectDelay, Refusals refusals,
			JsonMapper jsonMapper) {
		this.hub = hub;
		this.renderer = renderer;
		this.reconnectDelay = reconnectDelay;
		this.refusals = refusals;
		this.jsonMapper = jsonMapper;
	}

	/**
	 * Open a stream on the given exchange: it starts with the values after
	 * {@code Last-Event-ID} that are still held, or else with the current value.
	 * @param request the request
	 * @param response the response
	 * @param count how many value events to send before the stream ends
	 * @throws IOException if the response cannot be written
	 */
	void open(HttpServletRequest request, HttpServletResponse response, long count) throws IOException {
		String client = request.getRemoteAddr();
		Admission admission = this.hub.admitStream(client);
		if (admission == Admission.TAKEN) {
			this.hub.subscribe(new Subscription(request, response, client, count),
					parseEventId(request.getHeader("Last-Event-ID")));
			return;
		}
		boolean full = admission != Admission.CLOSED;
		String detail = full ? this.refusals.turnedAway(admission, Refusals.Kind.STREAM) : Refusals.SHUTTING_DOWN;
		if (!acceptsEventStream(request)) {
			throw this.refusals.unavailable(detail);
		}
		turnAway(response, full ? busyEvent(detail) : shutdownEvent());
	}

	private static long parseEventId(@Nullable String text) {
		return (text != null && EVENT_ID.matcher(text.strip()).matches()) ? Long.parseLong(text.strip()) : -1;
	}

	private static boolean acceptsEventStream(HttpServletRequest request) {
		String accept = request.getHeader(HttpHeaders.ACCEPT);
		if (accept == null) {
			return false;
		}
		try {
			return MediaType.parseMediaTypes(accept)
				.stream()
				.anyMatch(
						(type) -> type.getQualityValue() > 0 && MediaType.TEXT_EVENT_STREAM.equalsTypeAndSubtype(type));
		}
		catch (IllegalArgumentException ex) {
			return false;
		}
	}

	private static void startEventStream(HttpServletResponse response) {
		response.setStatus(HttpStatus.OK.value());
		response.setContentType(MediaType.TEXT_EVENT_STREAM_VALUE);
		response.setCharacterEncoding(StandardCharsets.UTF_8);
		response.setHeader(HttpHeaders.CACHE_CONTROL, "no-cache");
		response.setHeader("X-Accel-Buffering", "no");
	}

	private static void turnAway(HttpServletResponse response, byte[] event) throws IOException {
		startEventStream(response);
		// A burst of turned-away clients frees its connections at once, rather than keep
		// them idle for the keep-alive timeout while others wait to connect
		response.setHeader(HttpHeaders.CONNECTION, "close");
		response.setContentLength(event.length);
		response.getOutputStream().write(event);
	}

	private byte[] shutdownEvent() {
		return event(this.reconnectDelay.retry(), "shutdown", SHUTDOWN_DATA);
	}

	private byte[] busyEvent(String detail) {
		String data = this.jsonMapper.writeValueAsString(Problems.of(HttpStatus.SERVICE_UNAVAILABLE, detail));
		return event(this.reconnectDelay.retry(), "busy", data);
	}

	private static byte[] event(Duration retry, String name, String data) {
		return ("retry: " + retry.toMillis() + "\nevent: " + name + "\ndata: " + data + "\n\n")
			.getBytes(StandardCharsets.UTF_8);
	}

	/**
	 * A stream as the hub's subscriber: hands what the hub sends it, rendered, to the
	 * {@link StreamSubscriber} that writes it.
	 */
	private final class Subscription implements Subscriber {

		private final StreamSubscriber subscriber;

		private final String client;

		Subscription(HttpServletRequest request, HttpServletResponse response, String client, long count)
				throws IOException {
			this.client = client;
			startEventStream(response);
			AsyncContext async = request.startAsync();
			async.setTimeout(0);
			ServletOutputStream out = response.getOutputStream();
			Runnable closeNow = (Runnable) request.getAttribute(CloseNowValve.ATTRIBUTE);
			this.subscriber = new StreamSubscriber(async, out, count,
					(ended) -> EventStreams.this.hub.unsubscribe(this), System::nanoTime,
					(closeNow != null) ? closeNow : () -> {
					});
			async.addListener(this.subscriber.writer());
			out.setWriteListener(this.subscriber.writer());
		}

		@Override
		public String client() {
			return this.client;
		}

		@Override
		public void onValue(SequenceValue value) {
			this.subscriber.sendValue(value.eventId(), EventStreams.this.renderer.render(value).event());
		}

		@Override
		public void onValues(List<SequenceValue> values) {
			for (SequenceValue value : values) {
				this.subscriber.queueValue(value.eventId(), EventStreams.this.renderer.render(value).event());
			}
			this.subscriber.writeQueued();
		}

		@Override
		public void onMissed(SequenceValue value) {
			this.subscriber.sendMissed(value.eventId(), EventStreams.this.renderer.render(value).event());
		}

		@Override
		public void skipThrough(long eventId) {
			this.subscriber.skipThrough(eventId);
		}

		@Override
		public void onHeartbeat(long quietSince) {
			this.subscriber.sendHeartbeat(HEARTBEAT, quietSince);
		}

		@Override
		public void onClose() {
			this.subscriber.sendLast(shutdownEvent());
		}

		@Override
		public void abort() {
			this.subscriber.abort();
		}

		@Override
		public boolean isEnded() {
			return this.subscriber.isEnded();
		}

	}

}

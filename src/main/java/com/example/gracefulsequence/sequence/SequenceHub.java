package com.example.gracefulsequence.sequence;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

import com.example.gracefulsequence.shutdown.HttpDrainTimedOutEvent;
import com.example.gracefulsequence.state.StateFile;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.context.event.EventListener;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Component;
import org.springframework.web.ErrorResponseException;
import org.springframework.web.context.request.async.DeferredResult;

/**
 * Holds the latest value and hands each new one to the clients waiting for it: waiting
 * long-polls are completed at once, open streams get it from a single fan-out thread, so
 * the producer never waits on a client. It keeps the latest values for streams that
 * resume with {@code Last-Event-ID}, and turns away what is past
 * {@code sequence.max-subscribers} or comes during shutdown.
 *
 * @author graceful-sequence contributors
 */
@Component
final class SequenceHub {

	private static final Logger logger = LoggerFactory.getLogger(SequenceHub.class);

	private static final Duration GOODBYE_TIMEOUT = Duration.ofSeconds(1);

	private static final String SHUTDOWN_DATA = "{\"reason\":\"shutting down\"}";

	private static final String SHUTTING_DOWN = "The service is shutting down and opens no new streams; connect again "
			+ "to another instance or after a restart";

	private static final Pattern EVENT_ID = Pattern.compile("[0-9]{1,18}");

	private final JsonMapper jsonMapper;

	private final int maxSubscribers;

	private final String retryAfter;

	private final ReconnectDelay reconnectDelay;

	private final int replay;

	private final Deque<Latest> history = new ArrayDeque<>();

	private final Set<DeferredResult<ResponseEntity<byte[]>>> polls = ConcurrentHashMap.newKeySet();

	private final Set<StreamSubscriber> streams = ConcurrentHashMap.newKeySet();

	private final AtomicInteger subscribers = new AtomicInteger();

	private final ExecutorService fanOut = Executors
		.newSingleThreadExecutor((task) -> new Thread(task, "sequence-fan-out"));

	private volatile @Nullable Latest latest;

	private volatile boolean closed;

	SequenceHub(SequenceProperties properties, SubscriberCapacity capacity, ReconnectDelay reconnectDelay,
			StateFile stateFile, JsonMapper jsonMapper, MeterRegistry meterRegistry) {
		this.jsonMapper = jsonMapper;
		this.maxSubscribers = capacity.maxSubscribers();
		this.retryAfter = Long.toString(Math.max(1, properties.period().toSeconds()));
		this.reconnectDelay = reconnectDelay;
		this.replay = properties.stream().replay();
		stateFile.restore()
			.ifPresent((saved) -> remember(
					render(SequenceValue.restored(saved.value(), saved.savedAt().truncatedTo(ChronoUnit.MILLIS)))));
		Gauge.builder("sequence.last", this, SequenceHub::lastValue)
			.description("The latest value of the sequence")
			.register(meterRegistry);
		Gauge.builder("sequence.subscribers", this.streams, Set::size)
			.description("Open streams and waiting long-polls")
			.tag("kind", "stream")
			.register(meterRegistry);
		Gauge.builder("sequence.subscribers", this.polls, Set::size)
			.description("Open streams and waiting long-polls")
			.tag("kind", "poll")
			.register(meterRegistry);
	}

	private double lastValue() {
		Latest current = this.latest;
		return (current != null) ? current.value().value() : Double.NaN;
	}

	@Nullable Latest latest() {
		return this.latest;
	}

	/**
	 * Make a value the latest and hand it to every waiting client.
	 * @param value the new value
	 */
	void publish(SequenceValue value) {
		Latest next = render(value);
		remember(next);
		for (DeferredResult<ResponseEntity<byte[]>> poll : this.polls) {
			if (forget(poll)) {
				poll.setResult(next.response());
			}
		}
		if (!this.streams.isEmpty()) {
			onFanOutThread(() -> this.streams.forEach((stream) -> stream.sendValue(next.id(), next.event())));
		}
	}

	private void remember(Latest value) {
		synchronized (this.history) {
			this.latest = value;
			if (this.replay > 0) {
				if (this.history.size() == this.replay) {
					this.history.removeFirst();
				}
				this.history.addLast(value);
			}
		}
	}

	/**
	 * The values a stream starts with: those after the given event id if it is one the
	 * hub still holds, else the current value, if there is one.
	 * @param lastEventId the {@code Last-Event-ID} of the request, or {@code null}
	 * @return the values, oldest first
	 */
	List<Latest> startingFrom(@Nullable String lastEventId) {
		synchronized (this.history) {
			Latest current = this.latest;
			if (current == null) {
				return List.of();
			}
			long last = parseEventId(lastEventId);
			List<Latest> after = new ArrayList<>();
			boolean held = false;
			for (Latest value : this.history) {
				if (held) {
					after.add(value);
				}
				held = held || value.id() == last;
			}
			return held ? after : List.of(current);
		}
	}

	private static long parseEventId(@Nullable String text) {
		return (text != null && EVENT_ID.matcher(text.strip()).matches()) ? Long.parseLong(text.strip()) : -1;
	}

	/**
	 * Wait for the next value.
	 * @param timeout how long to wait before answering 204
	 * @return the result, set when the next value comes
	 */
	DeferredResult<ResponseEntity<byte[]>> awaitNext(Duration timeout) {
		if (!reserve()) {
			throw unavailable(tooMany("long-poll"));
		}
		DeferredResult<ResponseEntity<byte[]>> poll = new DeferredResult<>(timeout.toMillis(),
				() -> ResponseEntity.noContent().build());
		poll.onCompletion(() -> forget(poll));
		this.polls.add(poll);
		return poll;
	}

	private boolean forget(DeferredResult<ResponseEntity<byte[]>> poll) {
		if (this.polls.remove(poll)) {
			this.subscribers.decrementAndGet();
			return true;
		}
		return false;
	}

	/**
	 * Answer every waiting long-poll with a 503 when the HTTP drain runs out of time, so
	 * that none is cut without an answer.
	 */
	@EventListener(HttpDrainTimedOutEvent.class)
	void answerWaitingPolls() {
		for (DeferredResult<ResponseEntity<byte[]>> poll : this.polls) {
			if (forget(poll)) {
				ErrorResponseException unavailable = unavailable(
						"The service is shutting down and stopped waiting for the next value; ask another instance, "
								+ "or again after a restart");
				unavailable.getHeaders().set(HttpHeaders.CONNECTION, "close");
				poll.setErrorResult(unavailable);
			}
		}
	}

	/**
	 * Open an event stream on the given exchange: it starts with the values after
	 * {@code Last-Event-ID} that are still held, or else with the current value. During
	 * shutdown or past the limit, a client that speaks server-sent events is told when to
	 * come back in a one-event stream; any other gets a 503 problem.
	 * @param request the request
	 * @param response the response
	 * @param count how many value events to send before the stream ends
	 * @throws IOException if the response cannot be written
	 */
	void openStream(HttpServletRequest request, HttpServletResponse response, long count) throws IOException {
		boolean eventSource = acceptsEventStream(request);
		if (this.closed) {
			if (!eventSource) {
				throw unavailable(SHUTTING_DOWN);
			}
			turnAway(response, shutdownEvent());
			return;
		}
		if (!reserve()) {
			String detail = tooMany("stream");
			if (!eventSource) {
				throw unavailable(detail);
			}
			turnAway(response, busyEvent(detail));
			return;
		}
		String lastEventId = request.getHeader("Last-Event-ID");
		startEventStream(response);
		AsyncContext async = request.startAsync();
		async.setTimeout(0);
		ServletOutputStream out = response.getOutputStream();
		Runnable closeNow = (Runnable) request.getAttribute(CloseNowValve.ATTRIBUTE);
		StreamSubscriber stream = new StreamSubscriber(async, out, count, this::forget, System::nanoTime,
				(closeNow != null) ? closeNow : () -> {
				});
		async.addListener(stream);
		out.setWriteListener(stream);
		// Subscribed on the fan-out thread, so that no value falls between the replay
		// and the live ones
		boolean accepted = onFanOutThread(() -> {
			this.streams.add(stream);
			if (stream.isEnded()) {
				// Ended before it was subscribed, and forgotten already
				this.streams.remove(stream);
			}
			for (Latest value : startingFrom(lastEventId)) {
				stream.sendMissed(value.id(), value.event());
			}
			if (this.closed) {
				stream.sendLast(shutdownEvent());
			}
		});
		if (!accepted) {
			stream.sendLast(shutdownEvent());
		}
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
		response.setContentLength(event.length);
		response.getOutputStream().write(event);
	}

	private byte[] shutdownEvent() {
		return event(this.reconnectDelay.retry(), "shutdown", SHUTDOWN_DATA);
	}

	private byte[] busyEvent(String detail) {
		String data = this.jsonMapper.writeValueAsString(new ProblemBody(HttpStatus.SERVICE_UNAVAILABLE, detail));
		return event(this.reconnectDelay.retry(), "busy", data);
	}

	private static byte[] event(Duration retry, String name, String data) {
		return ("retry: " + retry.toMillis() + "\nevent: " + name + "\ndata: " + data + "\n\n")
			.getBytes(StandardCharsets.UTF_8);
	}

	// Called once per stream, when it ends
	private void forget(StreamSubscriber stream) {
		this.streams.remove(stream);
		this.subscribers.decrementAndGet();
		synchronized (this.streams) {
			this.streams.notifyAll();
		}
	}

	private boolean reserve() {
		if (this.subscribers.incrementAndGet() > this.maxSubscribers) {
			this.subscribers.decrementAndGet();
			return false;
		}
		return true;
	}

	private String tooMany(String kind) {
		return "Too many open streams and waiting long-polls (sequence.max-subscribers is " + this.maxSubscribers
				+ "); this " + kind + " was refused, try again later";
	}

	private ErrorResponseException unavailable(String detail) {
		ErrorResponseException ex = new ErrorResponseException(HttpStatus.SERVICE_UNAVAILABLE,
				ProblemDetail.forStatusAndDetail(HttpStatus.SERVICE_UNAVAILABLE, detail), null);
		ex.getHeaders().set(HttpHeaders.RETRY_AFTER, this.retryAfter);
		return ex;
	}

	private boolean onFanOutThread(Runnable task) {
		try {
			this.fanOut.execute(task);
			return true;
		}
		catch (RejectedExecutionException ex) {
			// Shut down: streams have been told already
			return false;
		}
	}

	private Latest render(SequenceValue value) {
		byte[] json = this.jsonMapper.writeValueAsBytes(value);
		long id = value.emittedAt().toEpochMilli();
		byte[] event = ("event: value\nid: " + id + "\ndata: " + new String(json, StandardCharsets.UTF_8) + "\n\n")
			.getBytes(StandardCharsets.UTF_8);
		String etag = "\"" + id + "-" + value.index() + "\"";
		return new Latest(value, id, json, event, etag);
	}

	/**
	 * Tell every open stream that the service is shutting down, and when to come back,
	 * and complete it; streams that do not take the news within a second are cut. New
	 * streams are turned away from now on.
	 */
	void closeStreams() {
		this.closed = true;
		int open = this.streams.size();
		onFanOutThread(() -> this.streams.forEach((stream) -> stream.sendLast(shutdownEvent())));
		this.fanOut.shutdown();
		awaitStreamsEnded();
		int cut = this.streams.size();
		this.streams.forEach(StreamSubscriber::abort);
		if (cut > 0) {
			logger.info("Told {} open stream(s) that the service is shutting down; cut {} that did not take it "
					+ "within {}", open, cut, GOODBYE_TIMEOUT);
		}
		else if (open > 0) {
			logger.info("Told {} open stream(s) that the service is shutting down", open);
		}
	}

	private void awaitStreamsEnded() {
		long deadline = System.nanoTime() + GOODBYE_TIMEOUT.toNanos();
		synchronized (this.streams) {
			try {
				long left = deadline - System.nanoTime();
				while (!this.streams.isEmpty() && left > 0) {
					TimeUnit.NANOSECONDS.timedWait(this.streams, left);
					left = deadline - System.nanoTime();
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
	}

	/**
	 * A value with its renderings, made once per value rather than once per request.
	 *
	 * @param value the value
	 * @param id its event id: when it was emitted, in milliseconds since the epoch, which
	 * increases with every value and across restarts
	 * @param json its JSON body
	 * @param event its server-sent event
	 * @param etag its entity tag
	 */
	record Latest(SequenceValue value, long id, byte[] json, byte[] event, String etag) {

		ResponseEntity<byte[]> response() {
			return ResponseEntity.ok().eTag(this.etag).contentType(MediaType.APPLICATION_JSON).body(this.json);
		}

	}

}

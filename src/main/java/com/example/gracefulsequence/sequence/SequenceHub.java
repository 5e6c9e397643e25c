package com.example.gracefulsequence.sequence;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

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
 * the producer never waits on a client.
 * <p>
 * As a lifecycle bean it performs shutdown step 2: it tells every open stream that the
 * service is going, completes it, and refuses new streams.
 *
 * @author graceful-sequence contributors
 */
@Component
final class SequenceHub {

	private static final Logger logger = LoggerFactory.getLogger(SequenceHub.class);

	private static final Duration GOODBYE_TIMEOUT = Duration.ofSeconds(1);

	private static final byte[] SHUTDOWN_EVENT = "event: shutdown\ndata: {\"reason\":\"shutting down\"}\n\n"
		.getBytes(StandardCharsets.UTF_8);

	private final JsonMapper jsonMapper;

	private final int maxSubscribers;

	private final String retryAfter;

	private final Set<DeferredResult<ResponseEntity<byte[]>>> polls = ConcurrentHashMap.newKeySet();

	private final Set<StreamSubscriber> streams = ConcurrentHashMap.newKeySet();

	private final AtomicInteger subscribers = new AtomicInteger();

	private final ExecutorService fanOut = Executors
		.newSingleThreadExecutor((task) -> new Thread(task, "sequence-fan-out"));

	private volatile @Nullable Latest latest;

	private volatile boolean closed;

	SequenceHub(SequenceProperties properties, StateFile stateFile, JsonMapper jsonMapper,
			MeterRegistry meterRegistry) {
		this.jsonMapper = jsonMapper;
		this.maxSubscribers = properties.maxSubscribers();
		this.retryAfter = Long.toString(Math.max(1, properties.period().toSeconds()));
		stateFile.restore()
			.ifPresent((saved) -> this.latest = render(SequenceValue.restored(saved.value(), saved.savedAt())));
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
		this.latest = next;
		for (DeferredResult<ResponseEntity<byte[]>> poll : this.polls) {
			if (forget(poll)) {
				poll.setResult(next.response());
			}
		}
		if (!this.streams.isEmpty()) {
			onFanOutThread(() -> this.streams.forEach((stream) -> stream.sendValue(value.index(), next.event())));
		}
	}

	/**
	 * Wait for the next value.
	 * @param timeout how long to wait before answering 204
	 * @return the result, set when the next value comes
	 */
	DeferredResult<ResponseEntity<byte[]>> awaitNext(Duration timeout) {
		reserve("long-poll");
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
	 * Open an event stream on the given exchange; the current value, if there is one, is
	 * its first event.
	 * @param request the request
	 * @param response the response
	 * @param count how many value events to send before the stream ends
	 * @throws IOException if the response cannot be written
	 */
	void openStream(HttpServletRequest request, HttpServletResponse response, long count) throws IOException {
		if (this.closed) {
			throw unavailable("The service is shutting down and opens no new streams; connect again to another "
					+ "instance or after a restart");
		}
		reserve("stream");
		response.setStatus(HttpStatus.OK.value());
		response.setContentType(MediaType.TEXT_EVENT_STREAM_VALUE);
		response.setCharacterEncoding(StandardCharsets.UTF_8);
		response.setHeader(HttpHeaders.CACHE_CONTROL, "no-cache");
		response.setHeader("X-Accel-Buffering", "no");
		AsyncContext async = request.startAsync();
		async.setTimeout(0);
		ServletOutputStream out = response.getOutputStream();
		StreamSubscriber stream = new StreamSubscriber(async, out, count, this::forget);
		async.addListener(stream);
		this.streams.add(stream);
		onFanOutThread(() -> {
			Latest current = this.latest;
			if (current != null) {
				stream.sendValue(current.value().index(), current.event());
			}
			if (this.closed) {
				stream.sendLast(SHUTDOWN_EVENT);
			}
		});
		out.setWriteListener(stream);
	}

	private void forget(StreamSubscriber stream) {
		if (this.streams.remove(stream)) {
			this.subscribers.decrementAndGet();
			synchronized (this.streams) {
				this.streams.notifyAll();
			}
		}
	}

	private void reserve(String kind) {
		if (this.subscribers.incrementAndGet() > this.maxSubscribers) {
			this.subscribers.decrementAndGet();
			throw unavailable("Too many open streams and waiting long-polls (sequence.max-subscribers is "
					+ this.maxSubscribers + "); this " + kind + " was refused, try again later");
		}
	}

	private ErrorResponseException unavailable(String detail) {
		ErrorResponseException ex = new ErrorResponseException(HttpStatus.SERVICE_UNAVAILABLE,
				ProblemDetail.forStatusAndDetail(HttpStatus.SERVICE_UNAVAILABLE, detail), null);
		ex.getHeaders().set(HttpHeaders.RETRY_AFTER, this.retryAfter);
		return ex;
	}

	private void onFanOutThread(Runnable task) {
		try {
			this.fanOut.execute(task);
		}
		catch (RejectedExecutionException ex) {
			// Shut down: streams have been told already
		}
	}

	private Latest render(SequenceValue value) {
		byte[] json = this.jsonMapper.writeValueAsBytes(value);
		byte[] event = ("event: value\nid: " + value.index() + "\ndata: " + new String(json, StandardCharsets.UTF_8)
				+ "\n\n")
			.getBytes(StandardCharsets.UTF_8);
		String etag = "\"" + value.emittedAt().toEpochMilli() + "-" + value.index() + "\"";
		return new Latest(value, json, event, etag);
	}

	/**
	 * Tell every open stream that the service is shutting down and complete it; streams
	 * that do not take the news within a second are cut. New streams are refused from now
	 * on.
	 */
	void closeStreams() {
		this.closed = true;
		int open = this.streams.size();
		onFanOutThread(() -> this.streams.forEach((stream) -> stream.sendLast(SHUTDOWN_EVENT)));
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
	 * @param json its JSON body
	 * @param event its server-sent event
	 * @param etag its entity tag
	 */
	record Latest(SequenceValue value, byte[] json, byte[] event, String etag) {

		ResponseEntity<byte[]> response() {
			return ResponseEntity.ok().eTag(this.etag).contentType(MediaType.APPLICATION_JSON).body(this.json);
		}

	}

}

package com.example.gracefulsequence.sequence.web;

import java.io.IOException;
import java.time.Duration;

import com.example.gracefulsequence.problem.Problems;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.convert.DurationStyle;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.ErrorResponseException;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.context.request.async.DeferredResult;

/**
 * The HTTP API of the sequence: the latest value, a long-poll for the next one and a
 * stream of server-sent events.
 *
 * @author graceful-sequence contributors
 */
@RestController
@RequestMapping(SequenceController.PATH)
final class SequenceController {

	static final String PATH = "/sequence";

	/**
	 * The request URI of a stream.
	 */
	static final String STREAM = PATH + "/stream";

	static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

	static final Duration MIN_TIMEOUT = Duration.ofMillis(1);

	static final Duration MAX_TIMEOUT = Duration.ofSeconds(60);

	static final long MAX_COUNT = 1_000_000;

	private static final String ALLOWED_TIMEOUT = "a duration from " + MIN_TIMEOUT.toMillis() + "ms to "
			+ MAX_TIMEOUT.toSeconds() + "s, such as 500ms, 30s or PT30S (a bare number is milliseconds)";

	private static final String ALLOWED_COUNT = "a whole number from 1 to " + MAX_COUNT;

	private final ValueRenderer renderer;

	private final LongPolls longPolls;

	private final EventStreams eventStreams;

	SequenceController(ValueRenderer renderer, LongPolls longPolls, EventStreams eventStreams) {
		this.renderer = renderer;
		this.longPolls = longPolls;
		this.eventStreams = eventStreams;
	}

	@GetMapping(path = "/last", produces = MediaType.APPLICATION_JSON_VALUE)
	ResponseEntity<byte[]> last() {
		RenderedValue latest = this.renderer.latest();
		if (latest == null) {
			throw new ErrorResponseException(HttpStatus.NOT_FOUND, Problems.of(HttpStatus.NOT_FOUND,
					"No value has been produced yet; the first one comes a period after start-up"), null);
		}
		return latest.response();
	}

	@GetMapping(path = "/next", produces = MediaType.APPLICATION_JSON_VALUE)
	DeferredResult<ResponseEntity<byte[]>> next(@RequestParam(required = false) @Nullable String timeout,
			HttpServletRequest request) {
		return this.longPolls.awaitNext(timeout(timeout), request.getRemoteAddr());
	}

	@GetMapping(path = "/stream", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
	void stream(@RequestParam(required = false) @Nullable String count, HttpServletRequest request,
			HttpServletResponse response) throws IOException {
		this.eventStreams.open(request, response, count(count));
	}

	private static Duration timeout(@Nullable String text) {
		if (text == null) {
			return DEFAULT_TIMEOUT;
		}
		Duration timeout;
		try {
			timeout = DurationStyle.detectAndParse(text.strip());
		}
		catch (IllegalArgumentException ex) {
			throw badParameter("timeout", text, ALLOWED_TIMEOUT);
		}
		if (timeout.compareTo(MIN_TIMEOUT) < 0 || timeout.compareTo(MAX_TIMEOUT) > 0) {
			throw badParameter("timeout", text, ALLOWED_TIMEOUT);
		}
		return timeout;
	}

	private static long count(@Nullable String text) {
		if (text == null) {
			return Long.MAX_VALUE;
		}
		try {
			long count = Long.parseLong(text.strip());
			if (count >= 1 && count <= MAX_COUNT) {
				return count;
			}
		}
		catch (NumberFormatException ex) {
			// Answered below
		}
		throw badParameter("count", text, ALLOWED_COUNT);
	}

	private static ErrorResponseException badParameter(String name, String value, String allowed) {
		ProblemDetail problem = Problems.of(HttpStatus.BAD_REQUEST,
				"Parameter '" + name + "' must be " + allowed + ", but was '" + value + "'");
		problem.setTitle("Invalid parameter");
		problem.setProperty("parameter", name);
		return new ErrorResponseException(HttpStatus.BAD_REQUEST, problem, null);
	}

}

package com.example.gracefulsequence.sequence.web;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import com.example.gracefulsequence.sequence.SequenceValue;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.webmvc.test.autoconfigure.WebMvcTest;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.test.context.bean.override.mockito.MockitoBean;
import org.springframework.test.web.servlet.assertj.MockMvcTester;
import org.springframework.test.web.servlet.assertj.MvcTestResult;
import org.springframework.web.context.request.async.DeferredResult;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.BDDMockito.given;
import static org.mockito.BDDMockito.then;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;

/**
 * Slice tests for {@link SequenceController} and the problem details it answers with.
 *
 * @author graceful-sequence contributors
 */
@WebMvcTest(SequenceController.class)
class SequenceControllerTests {

	private static final SequenceValue VALUE = new SequenceValue(42, 17, Instant.parse("2026-11-25T10:15:30.123Z"),
			SequenceValue.Source.LIVE);

	@Autowired
	private MockMvcTester mvc;

	@Autowired
	private JsonMapper jsonMapper;

	@MockitoBean
	private ValueRenderer renderer;

	@MockitoBean
	private LongPolls longPolls;

	@MockitoBean
	private EventStreams eventStreams;

	@Test
	void lastAnswersTheLatestValueAsJsonWithAnEntityTag() {
		given(this.renderer.latest()).willReturn(RenderedValue.of(VALUE, this.jsonMapper));
		assertThat(this.mvc.get().uri("/sequence/last")).hasStatusOk()
			.hasContentType(MediaType.APPLICATION_JSON)
			.hasHeader("ETag", "\"1795601730123-17\"")
			.bodyJson()
			.isStrictlyEqualTo("""
					{"value":42,"index":17,"emittedAt":"2026-11-25T10:15:30.123Z","source":"live"}""");
	}

	@Test
	void lastRendersARestoredValueWithIndexZero() {
		given(this.renderer.latest()).willReturn(
				RenderedValue.of(SequenceValue.restored(7, Instant.parse("2026-11-25T10:00:00.5Z")), this.jsonMapper));
		assertThat(this.mvc.get().uri("/sequence/last")).hasStatusOk().bodyJson().isStrictlyEqualTo("""
				{"value":7,"index":0,"emittedAt":"2026-11-25T10:00:00.500Z","source":"restored"}""");
	}

	@Test
	void lastAnswersNotModifiedWhenTheEntityTagMatches() {
		given(this.renderer.latest()).willReturn(RenderedValue.of(VALUE, this.jsonMapper));
		assertThat(this.mvc.get().uri("/sequence/last").header("If-None-Match", "\"1795601730123-17\""))
			.hasStatus(HttpStatus.NOT_MODIFIED);
	}

	@Test
	void lastBeforeAnyValueIsA404Problem() {
		assertThat(this.mvc.get().uri("/sequence/last")).hasStatus(HttpStatus.NOT_FOUND)
			.hasContentType(MediaType.APPLICATION_PROBLEM_JSON)
			.bodyJson()
			.isLenientlyEqualTo("""
					{"type":"about:blank","title":"Not Found","status":404,"instance":"/sequence/last"}""")
			.extractingPath("$.detail")
			.asString()
			.contains("No value has been produced yet");
	}

	@Test
	void anotherMethodIsA405ProblemThatSaysWhichAreAllowed() {
		assertThat(this.mvc.post().uri("/sequence/last")).hasStatus(HttpStatus.METHOD_NOT_ALLOWED)
			.hasHeader("Allow", "GET")
			.hasContentType(MediaType.APPLICATION_PROBLEM_JSON)
			.bodyJson()
			.isLenientlyEqualTo("""
					{"type":"about:blank","title":"Method Not Allowed","status":405,
					"detail":"Method 'POST' is not supported."}""");
	}

	@Test
	void anUnacceptableMediaTypeIsA406Problem() {
		given(this.renderer.latest()).willReturn(RenderedValue.of(VALUE, this.jsonMapper));
		assertThat(this.mvc.get().uri("/sequence/last").accept(MediaType.TEXT_HTML))
			.hasStatus(HttpStatus.NOT_ACCEPTABLE)
			.hasContentType(MediaType.APPLICATION_PROBLEM_JSON)
			.bodyJson()
			.isLenientlyEqualTo("""
					{"type":"about:blank","title":"Not Acceptable","status":406}""");
	}

	@Test
	void nextWaitsWithTheDefaultTimeoutOf30Seconds() {
		DeferredResult<ResponseEntity<byte[]>> result = new DeferredResult<>();
		result.setResult(RenderedValue.of(VALUE, this.jsonMapper).response());
		given(this.longPolls.awaitNext(Duration.ofSeconds(30), "127.0.0.1")).willReturn(result);
		assertThat(this.mvc.get().uri("/sequence/next")).hasStatusOk()
			.bodyJson()
			.extractingPath("$.value")
			.isEqualTo(42);
	}

	@Test
	void nextAcceptsSimpleAndIsoDurations() {
		given(this.longPolls.awaitNext(any(), any())).willAnswer((invocation) -> {
			DeferredResult<ResponseEntity<byte[]>> result = new DeferredResult<>();
			result.setResult(ResponseEntity.noContent().build());
			return result;
		});
		for (String timeout : List.of("1ms", "500ms", "PT1M", "60s", "250")) {
			assertThat(this.mvc.get().uri("/sequence/next").param("timeout", timeout)).hasStatus(HttpStatus.NO_CONTENT);
		}
		then(this.longPolls).should().awaitNext(Duration.ofMillis(500), "127.0.0.1");
		then(this.longPolls).should().awaitNext(Duration.ofMillis(250), "127.0.0.1");
		then(this.longPolls).should(times(2)).awaitNext(Duration.ofMinutes(1), "127.0.0.1");
	}

	@Test
	void nextWithATimeoutOutsideOneMillisecondToSixtySecondsIsA400ProblemNamingTheParameter() {
		for (String timeout : List.of("abc", "0ms", "61s", "-1s", "", "PT2M")) {
			assertThat(this.mvc.get().uri("/sequence/next").param("timeout", timeout)).hasStatus(HttpStatus.BAD_REQUEST)
				.hasContentType(MediaType.APPLICATION_PROBLEM_JSON)
				.bodyJson()
				.isLenientlyEqualTo("""
						{"type":"about:blank","title":"Invalid parameter","status":400,"parameter":"timeout"}""")
				.extractingPath("$.detail")
				.asString()
				.startsWith("Parameter 'timeout' must be a duration from 1ms to 60s")
				.endsWith("but was '" + timeout + "'");
		}
		then(this.longPolls).should(never()).awaitNext(any(), any());
	}

	@Test
	void streamWithACountOutsideOneToAMillionIsA400ProblemNamingTheParameter() throws Exception {
		for (String count : List.of("0", "1000001", "x", "-3", "1.5")) {
			MvcTestResult result = this.mvc.get()
				.uri("/sequence/stream")
				.param("count", count)
				.accept(MediaType.TEXT_EVENT_STREAM)
				.exchange();
			assertThat(result).hasStatus(HttpStatus.BAD_REQUEST)
				.hasContentType(MediaType.APPLICATION_PROBLEM_JSON)
				.bodyJson()
				.extractingPath("$.detail")
				.asString()
				.isEqualTo("Parameter 'count' must be a whole number from 1 to 1000000, but was '" + count + "'");
		}
		then(this.eventStreams).should(never()).open(any(), any(), anyLong());
	}

	@Test
	void anUnknownPathIsA404Problem() {
		assertThat(this.mvc.get().uri("/nothing/here")).hasStatus(HttpStatus.NOT_FOUND)
			.hasContentType(MediaType.APPLICATION_PROBLEM_JSON)
			.bodyJson()
			.isLenientlyEqualTo("""
					{"type":"about:blank","title":"Not Found","status":404,"instance":"/nothing/here"}""");
	}

}

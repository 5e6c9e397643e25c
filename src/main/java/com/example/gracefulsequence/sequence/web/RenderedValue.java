package com.example.gracefulsequence.sequence.web;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Locale;

import com.example.gracefulsequence.sequence.SequenceValue;
import jakarta.servlet.http.HttpServletResponse;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;

/**
 * A value as the web sees it, rendered once per value rather than once per request.
 *
 * @param value the value
 * @param json its JSON body
 * @param event its server-sent event
 * @param etag its entity tag
 * @author graceful-sequence contributors
 */
record RenderedValue(SequenceValue value, byte[] json, byte[] event, String etag) {

	static RenderedValue of(SequenceValue value, JsonMapper jsonMapper) {
		byte[] json = jsonMapper.writeValueAsBytes(Body.of(value));
		long id = value.eventId();
		byte[] event = ("event: value\nid: " + id + "\ndata: " + new String(json, StandardCharsets.UTF_8) + "\n\n")
			.getBytes(StandardCharsets.UTF_8);
		String etag = "\"" + id + "-" + value.index() + "\"";
		return new RenderedValue(value, json, event, etag);
	}

	ResponseEntity<byte[]> response() {
		return ResponseEntity.ok().eTag(this.etag).contentType(MediaType.APPLICATION_JSON).body(this.json);
	}

	/**
	 * Write the same answer as {@link #response()}, without Spring MVC.
	 * @param response the response to write to
	 * @throws IOException if the response cannot be written
	 */
	void writeTo(HttpServletResponse response) throws IOException {
		response.setHeader(HttpHeaders.ETAG, this.etag);
		response.setContentType(MediaType.APPLICATION_JSON_VALUE);
		response.setContentLength(this.json.length);
		response.getOutputStream().write(this.json);
	}

	/**
	 * A value's JSON body, as the wire format has it.
	 *
	 * @param value the random number
	 * @param index how many values the process has produced, 0 for a restored value
	 * @param emittedAt when the value was produced or saved
	 * @param source {@code live} or {@code restored}
	 */
	record Body(int value, long index, Instant emittedAt, String source) {

		static Body of(SequenceValue value) {
			return new Body(value.value(), value.index(), value.emittedAt(),
					value.source().name().toLowerCase(Locale.ROOT));
		}

	}

}

package com.example.gracefulsequence.sequence.web;

import java.io.IOException;
import java.util.List;

import com.example.gracefulsequence.problem.Problems;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.ServerHttpResponse;
import org.springframework.web.cors.DefaultCorsProcessor;

/**
 * Spring's CORS processing, with a refused request answered as an RFC 9457 problem rather
 * than the plain text {@code Invalid CORS request}.
 *
 * @author graceful-sequence contributors
 */
final class CorsProblemProcessor extends DefaultCorsProcessor {

	private final byte[] problem;

	CorsProblemProcessor(List<String> allowedOrigins, List<String> allowedMethods, List<String> allowedHeaders,
			JsonMapper jsonMapper) {
		HttpStatus status = HttpStatus.FORBIDDEN;
		this.problem = jsonMapper.writeValueAsBytes(Problems.of(status,
				"Header 'Origin' names an origin that may not read this API, or the preflight asks for a method or "
						+ "header it does not allow: sequence.cors.allowed-origins allows " + allowedOrigins
						+ ", with the methods " + allowedMethods + " and the request headers " + allowedHeaders));
	}

	@Override
	protected void rejectRequest(ServerHttpResponse response) throws IOException {
		response.setStatusCode(HttpStatus.FORBIDDEN);
		response.getHeaders().setContentType(MediaType.APPLICATION_PROBLEM_JSON);
		response.getHeaders().set(HttpHeaders.CONTENT_LENGTH, Integer.toString(this.problem.length));
		response.getBody().write(this.problem);
		response.flush();
	}

}

package com.example.gracefulsequence.problem;

import java.net.URI;

import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;

/**
 * Problem details as this service writes them: with a {@code type}, which Spring
 * Framework leaves out unless it is set.
 *
 * @author graceful-sequence contributors
 */
final class Problems {

	static final URI BLANK_TYPE = URI.create("about:blank");

	static final String UNEXPECTED_DETAIL = "The request failed unexpectedly; the service log has the details";

	private Problems() {
	}

	static ProblemDetail of(HttpStatusCode status, String detail) {
		return withType(ProblemDetail.forStatusAndDetail(status, detail));
	}

	static ProblemDetail withType(ProblemDetail problem) {
		if (problem.getType() == null) {
			problem.setType(BLANK_TYPE);
		}
		return problem;
	}

}

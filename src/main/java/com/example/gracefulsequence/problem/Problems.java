package com.example.gracefulsequence.problem;

import java.net.URI;

import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;

/**
 * Problem details as this service writes them: with a {@code type}, which Spring
 * Framework leaves out unless it is set. Every problem, whether Spring MVC, a valve or a
 * filter answers it, is made here and written by the application's {@code JsonMapper}
 * (see {@link ProblemJsonModule}).
 *
 * @author graceful-sequence contributors
 */
public final class Problems {

	static final URI BLANK_TYPE = URI.create("about:blank");

	static final String UNEXPECTED_DETAIL = "The request failed unexpectedly; the service log has the details";

	private Problems() {
	}

	/**
	 * A problem of the given status, with the status's reason phrase as its title.
	 * @param status the status
	 * @param detail what happened and what to do
	 * @return the problem
	 */
	public static ProblemDetail of(HttpStatusCode status, String detail) {
		return withType(ProblemDetail.forStatusAndDetail(status, detail));
	}

	static ProblemDetail withType(ProblemDetail problem) {
		if (problem.getType() == null) {
			problem.setType(BLANK_TYPE);
		}
		return problem;
	}

}

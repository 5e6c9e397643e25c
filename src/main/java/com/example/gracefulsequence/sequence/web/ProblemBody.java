package com.example.gracefulsequence.sequence.web;

import org.springframework.http.HttpStatus;

/**
 * An RFC 9457 problem that is written outside Spring MVC's error handling: as the data of
 * a {@code busy} event, or by a filter.
 *
 * @param type the problem type
 * @param title the title
 * @param status the status
 * @param detail what happened and what to do
 * @author graceful-sequence contributors
 */
record ProblemBody(String type, String title, int status, String detail) {

	ProblemBody(HttpStatus status, String detail) {
		this("about:blank", status.getReasonPhrase(), status.value(), detail);
	}

}

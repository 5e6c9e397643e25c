package com.example.gracefulsequence.problem;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;

/**
 * Answers every exception raised in Spring MVC with an RFC 9457 problem detail: the
 * framework's own exceptions (unknown path, wrong method, unacceptable media type) and
 * {@code ErrorResponse}s through the base class, anything else as a 500 that names no
 * internals.
 *
 * @author graceful-sequence contributors
 */
@RestControllerAdvice
final class ProblemExceptionHandler extends ResponseEntityExceptionHandler {

	private static final Logger logger = LoggerFactory.getLogger(ProblemExceptionHandler.class);

	@ExceptionHandler
	ResponseEntity<Object> handleUnexpected(Exception ex) {
		logger.error("Request failed with an unexpected exception", ex);
		return ResponseEntity.internalServerError()
			.body(Problems.of(HttpStatus.INTERNAL_SERVER_ERROR, Problems.UNEXPECTED_DETAIL));
	}

	@Override
	protected ResponseEntity<Object> createResponseEntity(@Nullable Object body, HttpHeaders headers,
			HttpStatusCode statusCode, WebRequest request) {
		if (body instanceof ProblemDetail problem) {
			Problems.withType(problem);
		}
		return super.createResponseEntity(body, headers, statusCode, request);
	}

}

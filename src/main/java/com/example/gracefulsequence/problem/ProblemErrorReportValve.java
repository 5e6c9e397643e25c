package com.example.gracefulsequence.problem;

import java.io.IOException;
import java.io.Writer;
import java.util.Locale;

import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ErrorReportValve;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;

/**
 * Tomcat's last resort for errors that never reach the application (a malformed URI, for
 * example): a problem detail in place of Tomcat's HTML page.
 *
 * @author graceful-sequence contributors
 */
final class ProblemErrorReportValve extends ErrorReportValve {

	private final JsonMapper jsonMapper;

	ProblemErrorReportValve(JsonMapper jsonMapper) {
		this.jsonMapper = jsonMapper;
	}

	@Override
	protected void report(Request request, Response response, Throwable throwable) {
		int status = response.getStatus();
		if (status < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) {
			return;
		}
		try {
			response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
			response.setCharacterEncoding("UTF-8");
			Writer writer = response.getReporter();
			if (writer != null) {
				writer.write(this.jsonMapper.writeValueAsString(problem(status)));
				response.finishResponse();
			}
		}
		catch (IOException | IllegalStateException ex) {
			// The client is gone or the response is committed: nothing more to say
		}
	}

	private static ProblemDetail problem(int status) {
		HttpStatus known = HttpStatus.resolve(status);
		String title = (known != null) ? known.getReasonPhrase() : "Error";
		ProblemDetail problem = Problems.of(HttpStatusCode.valueOf(status),
				"The server could not process the request: " + title.toLowerCase(Locale.ROOT));
		problem.setTitle(title);
		return problem;
	}

}

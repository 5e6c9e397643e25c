package com.example.gracefulsequence.sequence.web;

import java.net.http.HttpResponse;

import com.example.gracefulsequence.ServiceClient;
import com.example.gracefulsequence.TemporaryStateFile;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Full-application tests of {@code sequence.cors.allowed-origins}: Spring's CORS support
 * on {@code /sequence/**}, preflight requests included.
 *
 * @author graceful-sequence contributors
 */
@DirtiesContext
@TemporaryStateFile
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "sequence.period=1h", TemporaryStateFile.RESTORED + "=42",
				"sequence.cors.allowed-origins=http://allowed.example,https://also.example" })
class CorsTests {

	private static final String ALLOWED = "http://allowed.example";

	@LocalServerPort
	private int port;

	private ServiceClient client;

	@BeforeEach
	void createClient() {
		this.client = new ServiceClient(this.port);
	}

	@Test
	void aPageOfAnAllowedOriginMayReadTheLatestValueAndTheStream() throws Exception {
		HttpResponse<String> last = this.client.send("GET", "/sequence/last", "Origin", ALLOWED);
		assertThat(last.statusCode()).isEqualTo(200);
		assertThat(last.headers().firstValue("Access-Control-Allow-Origin")).hasValue(ALLOWED);
		assertThat(last.body()).contains("\"value\":42");
		HttpResponse<String> stream = this.client.send("GET", "/sequence/stream?count=1", "Origin", ALLOWED, "Accept",
				"text/event-stream");
		assertThat(stream.statusCode()).isEqualTo(200);
		assertThat(stream.headers().firstValue("Access-Control-Allow-Origin")).hasValue(ALLOWED);
		assertThat(stream.body()).contains("event: value");
	}

	@Test
	void aPreflightForAResumingEventSourceIsAllowed() throws Exception {
		HttpResponse<String> preflight = this.client.send("OPTIONS", "/sequence/stream", "Origin",
				"https://also.example", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers",
				"last-event-id");
		assertThat(preflight.statusCode()).isEqualTo(200);
		assertThat(preflight.headers().firstValue("Access-Control-Allow-Origin")).hasValue("https://also.example");
		assertThat(preflight.headers().firstValue("Access-Control-Allow-Methods")).hasValue("GET,HEAD");
		assertThat(preflight.headers().firstValue("Access-Control-Allow-Headers"))
			.hasValueSatisfying((allowed) -> assertThat(allowed).containsIgnoringCase("last-event-id"));
		assertThat(preflight.headers().firstValue("Access-Control-Max-Age")).hasValue("1800");
	}

	@Test
	void anotherOriginIsRefusedWithAProblemThatNamesTheProperty() throws Exception {
		HttpResponse<String> refused = this.client.send("GET", "/sequence/last", "Origin", "http://evil.example");
		assertThat(refused.statusCode()).isEqualTo(403);
		assertThat(refused.headers().firstValue("Content-Type")).hasValue("application/problem+json");
		assertThat(refused.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
		assertThat(refused.body()).contains("\"status\":403")
			.contains("\"type\":\"about:blank\"")
			.contains("Header 'Origin'")
			.contains("sequence.cors.allowed-origins allows [http://allowed.example, https://also.example]");
	}

	@Test
	void aPreflightForAnotherMethodOrHeaderIsRefusedWithAProblem() throws Exception {
		HttpResponse<String> method = this.client.send("OPTIONS", "/sequence/last", "Origin", ALLOWED,
				"Access-Control-Request-Method", "DELETE");
		assertThat(method.statusCode()).isEqualTo(403);
		assertThat(method.headers().firstValue("Content-Type")).hasValue("application/problem+json");
		assertThat(method.body()).contains("the methods [GET, HEAD]");
		HttpResponse<String> header = this.client.send("OPTIONS", "/sequence/stream", "Origin", ALLOWED,
				"Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "x-secret");
		assertThat(header.statusCode()).isEqualTo(403);
		assertThat(header.body()).contains("the request headers [Last-Event-ID, Cache-Control]");
	}

	@Test
	void theActuatorIsNotOpenToOtherOrigins() throws Exception {
		HttpResponse<String> health = this.client.send("GET", "/actuator/health", "Origin", ALLOWED);
		assertThat(health.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
	}

}

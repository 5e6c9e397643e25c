package com.example.gracefulsequence;

import java.io.IOException;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.web.servlet.client.RestTestClient;
import org.springframework.test.web.servlet.client.RestTestClient.BodyContentSpec;
import org.springframework.test.web.servlet.client.RestTestClient.RequestHeadersSpec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Full-application tests of the HTTP API on a random port.
 *
 * @author graceful-sequence contributors
 */
@DirtiesContext
@TemporaryStateFile
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT, properties = "sequence.period=300ms")
@AutoConfigureRestTestClient
class GracefulSequenceApplicationTests {

	@Autowired
	private RestTestClient client;

	@LocalServerPort
	private int port;

	@Test
	void lastAnswersALiveValue() {
		await().atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> this.client.get()
				.uri("/sequence/last")
				.exchange()
				.expectStatus()
				.isOk()
				.expectHeader()
				.contentType(MediaType.APPLICATION_JSON)
				.expectHeader()
				.exists("ETag")
				.expectBody()
				.jsonPath("$.value")
				.value((Integer value) -> assertThat(value).isBetween(0, 119))
				.jsonPath("$.index")
				.value((Integer index) -> assertThat(index).isPositive())
				.jsonPath("$.source")
				.isEqualTo("live")
				.jsonPath("$.emittedAt")
				.exists());
	}

	@Test
	void nextAnswersTheFollowingValue() {
		await().atMost(Duration.ofSeconds(10))
			.until(() -> this.client.get().uri("/sequence/last").exchange().returnResult().getStatus().value() == 200);
		byte[] last = this.client.get().uri("/sequence/last").exchange().returnResult(byte[].class).getResponseBody();
		String lastIndex = new String(last).replaceAll(".*\"index\":(\\d+).*", "$1");
		this.client.get()
			.uri("/sequence/next?timeout=10s")
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody()
			.jsonPath("$.index")
			.value((Integer index) -> assertThat(index).isGreaterThan(Integer.parseInt(lastIndex)))
			.jsonPath("$.source")
			.isEqualTo("live");
	}

	@Test
	void unknownPathsAnswerAProblemNotAnHtmlPageOrLegacyJson() {
		expectProblem(this.client.get().uri("/does/not/exist").accept(MediaType.TEXT_HTML), HttpStatus.NOT_FOUND)
			.jsonPath("$.title")
			.isEqualTo("Not Found")
			.jsonPath("$.detail")
			.exists()
			.jsonPath("$.timestamp")
			.doesNotExist();
	}

	@Test
	void theLivePageIsServedAtTheRootAndNoOtherPathServesStaticContent() {
		this.client.get()
			.uri("/")
			.accept(MediaType.TEXT_HTML)
			.exchange()
			.expectStatus()
			.isOk()
			.expectHeader()
			.contentType("text/html;charset=UTF-8")
			.expectBody(String.class)
			.value((page) -> assertThat(page).startsWith("<!doctype html>").contains("new EventSource("));
		this.client.head()
			.uri("/")
			.exchange()
			.expectStatus()
			.isOk()
			.expectHeader()
			.contentType("text/html;charset=UTF-8")
			.expectBody()
			.isEmpty();
		for (String path : new String[] { "/index.html", "/page/index.html" }) {
			expectProblem(this.client.get().uri(path), HttpStatus.NOT_FOUND);
		}
	}

	@Test
	void aRequestThatTomcatRejectsBeforeTheApplicationAnswersAProblem() throws IOException {
		HttpConnection.Response response = HttpConnection.get(this.port, "/%zz");
		assertThat(response.status()).isEqualTo(400);
		assertThat(response.header("Content-Type")).startsWith("application/problem+json");
		assertThat(response.body()).contains("{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"status\":400,")
			.doesNotContain("<html");
	}

	@Test
	void springMvcAndTomcatWriteTheMembersOfAProblemInOneOrder() throws IOException {
		String prefix = "{\"type\":\"about:blank\",\"title\":\"Not Found\",\"status\":404,\"detail\":";
		assertThat(HttpConnection.get(this.port, "/does/not/exist").body()).startsWith(prefix);
		assertThat(HttpConnection.get(this.port, "/%zz").body())
			.startsWith("{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"status\":400,\"detail\":");
	}

	@Test
	void theErrorPathItselfAnswersAProblem() {
		expectProblem(this.client.get().uri("/error"), HttpStatus.INTERNAL_SERVER_ERROR);
	}

	@Test
	void wrongMethodAndUnacceptableTypeAnswerProblems() {
		expectProblem(this.client.delete().uri("/sequence/next"), HttpStatus.METHOD_NOT_ALLOWED);
		expectProblem(this.client.get().uri("/sequence/stream").accept(MediaType.APPLICATION_XML),
				HttpStatus.NOT_ACCEPTABLE);
	}

	private static BodyContentSpec expectProblem(RequestHeadersSpec<?> request, HttpStatus status) {
		return request.exchange()
			.expectStatus()
			.isEqualTo(status)
			.expectHeader()
			.contentType(MediaType.APPLICATION_PROBLEM_JSON)
			.expectBody()
			.jsonPath("$.type")
			.isEqualTo("about:blank")
			.jsonPath("$.status")
			.isEqualTo(status.value());
	}

	@Test
	void probesAnswerOnTheApplicationPort() {
		for (String path : new String[] { "/livez", "/readyz", "/actuator/health/liveness",
				"/actuator/health/readiness" }) {
			this.client.get()
				.uri(path)
				.exchange()
				.expectStatus()
				.isOk()
				.expectBody()
				.jsonPath("$.status")
				.isEqualTo("UP");
		}
		this.client.get()
			.uri("/actuator/health")
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody()
			.jsonPath("$.components.stateFile.status")
			.isEqualTo("UP");
	}

}

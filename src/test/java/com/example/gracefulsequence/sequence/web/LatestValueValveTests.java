package com.example.gracefulsequence.sequence.web;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

import com.example.gracefulsequence.ServiceClient;
import com.example.gracefulsequence.TemporaryStateFile;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.apache.catalina.Context;
import org.apache.tomcat.util.descriptor.web.FilterMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.tomcat.TomcatWebServer;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.test.annotation.DirtiesContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The hot path of {@code GET /sequence/last} on a real Tomcat: it answers what Spring MVC
 * answers, it is counted in {@code http.server.requests}, and it sits between the drain
 * valve and the servlet filters, the request observation among them. The period is an
 * hour, so the value does not change during a test.
 *
 * @author graceful-sequence contributors
 */
@DirtiesContext
@TemporaryStateFile
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "sequence.period=1h", TemporaryStateFile.RESTORED + "=42" })
class LatestValueValveTests {

	@LocalServerPort
	private int port;

	@Autowired
	private MeterRegistry meterRegistry;

	@Autowired
	private WebServerApplicationContext context;

	private ServiceClient client;

	@BeforeEach
	void firstValue() {
		this.client = new ServiceClient(this.port);
		await().atMost(Duration.ofSeconds(10)).until(() -> this.client.get("/sequence/last").statusCode() == 200);
	}

	@Test
	void thePlainRequestGetsWhatSpringMvcAnswers() {
		// The first is answered by the valve; the others, not exactly JSON or anything,
		// go on to Spring MVC's content negotiation
		HttpResponse<String> fast = this.client.get("/sequence/last");
		for (String accept : List.of("application/json;q=0.9", "application/*", "text/html, application/json")) {
			HttpResponse<String> mvc = this.client.get("/sequence/last", "Accept", accept);
			assertThat(mvc.statusCode()).isEqualTo(200);
			assertThat(mvc.body()).isEqualTo(fast.body());
			assertThat(headers(mvc)).isEqualTo(headers(fast));
		}
		assertThat(fast.body()).startsWith("{\"value\":").contains("\"source\":\"restored\"");
		assertThat(fast.headers().firstValue("Content-Length")).hasValue(Integer.toString(fast.body().length()));
	}

	@Test
	void everyOtherRequestGetsItsOwnAnswer() {
		String etag = this.client.get("/sequence/last").headers().firstValue("ETag").orElseThrow();
		assertThat(this.client.get("/sequence/last", "If-None-Match", etag).statusCode()).isEqualTo(304);
		assertThat(this.client.get("/sequence/last", "If-None-Match", "\"other\"").statusCode()).isEqualTo(200);
		HttpResponse<String> html = this.client.get("/sequence/last", "Accept", "text/html");
		assertThat(html.statusCode()).isEqualTo(406);
		assertThat(html.headers().firstValue("Content-Type")).hasValue("application/problem+json");
		HttpResponse<String> post = this.client.send("POST", "/sequence/last");
		assertThat(post.statusCode()).isEqualTo(405);
		assertThat(post.headers().firstValue("Allow")).hasValue("GET");
		HttpResponse<String> head = this.client.send("HEAD", "/sequence/last");
		assertThat(head.statusCode()).isEqualTo(200);
		assertThat(head.headers().firstValue("ETag")).hasValue(etag);
		// No sequence.cors.allowed-origins: answered, but without CORS headers, so that a
		// browser keeps another origin's page from reading it
		HttpResponse<String> crossOrigin = this.client.get("/sequence/last", "Origin", "http://other.example");
		assertThat(crossOrigin.statusCode()).isEqualTo(200);
		assertThat(crossOrigin.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
	}

	@Test
	void thePlainRequestIsCountedOnceInTheRequestMetric() {
		Timer timer = this.meterRegistry.get("http.server.requests")
			.tags("uri", "/sequence/last", "status", "200", "method", "GET")
			.timer();
		long before = settled(timer);
		for (int i = 0; i < 3; i++) {
			assertThat(this.client.get("/sequence/last").statusCode()).isEqualTo(200);
		}
		// Recorded as the valve returns, which may be just after the client has the
		// answer; that the observation does not count them again is shown by the order
		// of the valves and the filters
		await().atMost(Duration.ofSeconds(5)).until(() -> timer.count() == before + 3);
		// A request that goes on to Spring MVC is recorded by the observation, in the
		// same meter, when it ends
		assertThat(this.client.get("/sequence/last", "Accept", "application/*").statusCode()).isEqualTo(200);
		await().atMost(Duration.ofSeconds(5)).until(() -> timer.count() == before + 4);
	}

	// Requests of earlier tests are recorded as their valve returns, which may be just
	// after their client had the answer: wait until no more come in
	private static long settled(Timer timer) {
		AtomicLong last = new AtomicLong(-1);
		await().atMost(Duration.ofSeconds(5))
			.pollInterval(Duration.ofMillis(50))
			.until(() -> last.getAndSet(timer.count()) == timer.count());
		return timer.count();
	}

	@Test
	void theValveRunsAfterTheDrainValveAndBeforeTheFiltersOfTheRequestObservation() {
		Context tomcatContext = (Context) ((TomcatWebServer) this.context.getWebServer()).getTomcat()
			.getHost()
			.findChildren()[0];
		List<String> valves = Arrays.stream(tomcatContext.getPipeline().getValves())
			.map((valve) -> valve.getClass().getSimpleName())
			.toList();
		assertThat(valves).containsSubsequence("DrainValve", "LatestValueValve");
		// Valves run before every servlet filter
		List<String> filters = Arrays.stream(tomcatContext.findFilterMaps()).map(FilterMap::getFilterName).toList();
		assertThat(filters).contains("webMvcObservationFilter");
	}

	private Map<String, List<String>> headers(HttpResponse<String> response) {
		Map<String, List<String>> headers = new TreeMap<>(response.headers().map());
		headers.remove("date");
		return headers;
	}

}

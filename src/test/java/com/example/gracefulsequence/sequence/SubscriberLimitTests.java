package com.example.gracefulsequence.sequence;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.example.gracefulsequence.EventStream;
import com.example.gracefulsequence.EventStream.Event;
import com.example.gracefulsequence.HttpConnection;
import com.example.gracefulsequence.Meters;
import com.example.gracefulsequence.ServiceClient;
import com.example.gracefulsequence.StreamConnection;
import com.example.gracefulsequence.TemporaryStateFile;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Full-application tests of {@code sequence.max-subscribers}.
 *
 * @author graceful-sequence contributors
 */
@DirtiesContext
@TemporaryStateFile
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "sequence.period=1h", "sequence.max-subscribers=2", TemporaryStateFile.RESTORED + "=42" })
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SubscriberLimitTests {

	@LocalServerPort
	private int port;

	@Autowired
	private MeterRegistry meterRegistry;

	private ServiceClient client;

	@BeforeEach
	void createClient() {
		this.client = new ServiceClient(this.port);
	}

	private double subscribers(String kind) {
		return Meters.subscribers(this.meterRegistry, kind);
	}

	@Test
	void pastTheLimitPlainRequestsGetA503ProblemAndAnEventSourceIsToldWhenToComeBack() throws Exception {
		try (EventStream stream = EventStream.open(this.client.httpClient(), this.port, "")) {
			assertThat(stream.next()).isNotNull();
			CompletableFuture<HttpResponse<String>> poll = this.client.getAsync("/sequence/next?timeout=2s");
			await().atMost(Duration.ofSeconds(5)).until(() -> subscribers("poll") == 1 && subscribers("stream") == 1);
			for (String path : new String[] { "/sequence/stream", "/sequence/next?timeout=1s" }) {
				HttpResponse<String> refused = this.client.get(path);
				assertThat(refused.statusCode()).isEqualTo(503);
				assertThat(refused.headers().firstValue("Retry-After")).isPresent();
				assertThat(refused.headers().firstValue("Content-Type")).hasValue("application/problem+json");
				assertThat(refused.body()).contains("\"status\":503")
					.contains("\"type\":\"about:blank\"")
					.contains("sequence.max-subscribers is 2");
			}
			// An EventSource gives up for good on any answer but a 200
			try (EventStream refused = EventStream.open(this.client.httpClient(), this.port, "")) {
				assertThat(refused.response().statusCode()).isEqualTo(200);
				Event busy = refused.next();
				assertThat(busy).isNotNull();
				assertThat(busy.name()).isEqualTo("busy");
				assertThat(busy.retry()).isBetween(3000L, 6000L);
				assertThat(busy.data()).contains("\"type\":\"about:blank\"")
					.contains("\"status\":503")
					.contains("sequence.max-subscribers is 2");
				assertThat(refused.next()).isNull();
			}
			assertThat(subscribers("stream")).isEqualTo(1);
			assertThat(poll.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(204);
		}
	}

	@Test
	void aLongPollWithoutANewValueAnswers204AndIsForgotten() throws Exception {
		HttpResponse<String> response = this.client.get("/sequence/next?timeout=50ms");
		assertThat(response.statusCode()).isEqualTo(204);
		assertThat(response.body()).isEmpty();
		await().atMost(Duration.ofSeconds(5)).until(() -> subscribers("poll") == 0);
	}

	@Test
	void everyTurnedAwayAnswerClosesItsConnectionSoThatABurstFreesItsSlotsAtOnce() throws Exception {
		// Two long-polls take both places, and leave them when they are answered
		List<CompletableFuture<HttpResponse<String>>> polls = List.of(this.client.getAsync("/sequence/next?timeout=3s"),
				this.client.getAsync("/sequence/next?timeout=3s"));
		await().atMost(Duration.ofSeconds(5)).until(() -> subscribers("poll") == 2);
		for (String path : new String[] { "/sequence/stream", "/sequence/next?timeout=1s" }) {
			try (HttpConnection connection = HttpConnection.open(this.port)) {
				HttpConnection.Response refused = connection.get(path);
				assertThat(refused.status()).isEqualTo(503);
				assertThat(refused.closesConnection()).as("Connection: close on the 503 of %s", path).isTrue();
				assertThat(connection.isClosedByServer()).isTrue();
			}
		}
		try (StreamConnection busy = StreamConnection.open(this.port, "/sequence/stream",
				StreamConnection.EVENT_STREAM)) {
			assertThat(busy.status()).isEqualTo(200);
			assertThat(busy.header("Connection")).isEqualTo("close");
			Event event = busy.next();
			assertThat(event).isNotNull();
			assertThat(event.name()).isEqualTo("busy");
			assertThat(busy.next()).isNull();
			assertThat(busy.isClosedByServer()).isTrue();
		}
		for (CompletableFuture<HttpResponse<String>> poll : polls) {
			assertThat(poll.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(204);
		}
	}

}

package com.example.gracefulsequence.shutdown;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import com.example.gracefulsequence.EventStream;
import com.example.gracefulsequence.EventStream.Event;
import com.example.gracefulsequence.GracefulSequenceApplication;
import com.example.gracefulsequence.HttpConnection;
import com.example.gracefulsequence.Meters;
import com.example.gracefulsequence.ServiceClient;
import com.example.gracefulsequence.ShutdownLog;
import com.example.gracefulsequence.sequence.SequenceHub;
import com.example.gracefulsequence.sequence.SequenceValue;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * In-process tests of the whole shutdown, with a real Tomcat and real connections, driven
 * by closing the application context.
 *
 * @author graceful-sequence contributors
 */
@ExtendWith(OutputCaptureExtension.class)
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class GracefulShutdownTests {

	@TempDir
	Path directory;

	private ConfigurableApplicationContext context;

	private int port;

	private ServiceClient client;

	@AfterEach
	void close() {
		if (this.context != null) {
			this.context.close();
		}
	}

	private void start(String... args) {
		List<String> all = new ArrayList<>(
				List.of("--server.port=0", "--sequence.state-file=" + this.directory.resolve("last.txt")));
		all.addAll(List.of(args));
		if (all.stream().noneMatch((arg) -> arg.startsWith("--sequence.period="))) {
			all.add("--sequence.period=1s");
		}
		this.context = new SpringApplicationBuilder(GracefulSequenceApplication.class).run(all.toArray(String[]::new));
		this.port = ((WebServerApplicationContext) this.context).getWebServer().getPort();
		this.client = new ServiceClient(this.port, Duration.ofSeconds(40));
		await().atMost(Duration.ofSeconds(10)).until(() -> this.client.get("/sequence/last").statusCode() == 200);
	}

	private double subscribers(String kind) {
		return Meters.subscribers(this.context.getBean(MeterRegistry.class), kind);
	}

	@Test
	void whenANextIsWaitingThenShutdownLetsItCompleteAndTheFileHoldsTheLastValue(CapturedOutput output)
			throws Exception {
		start();
		// What this context published, from the hub itself: contexts that other test
		// classes cached keep producing in this JVM and log "Received" to the same output
		List<SequenceValue> published = new CopyOnWriteArrayList<>();
		this.context.getBean(SequenceHub.class).onPublish(published::add);
		CompletableFuture<HttpResponse<String>> next = this.client.getAsync("/sequence/next?timeout=30s");
		await().atMost(Duration.ofSeconds(10)).until(() -> subscribers("poll") == 1);
		int closingAt = output.length();
		this.context.close();
		HttpResponse<String> response = next.get(10, TimeUnit.SECONDS);
		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(response.body()).contains("\"source\":\"live\"");
		int last = published.get(published.size() - 1).value();
		assertThat(Files.readString(this.directory.resolve("last.txt")))
			.isEqualTo("Last number from random sequence: " + last + "\n");
		assertThat(response.body()).contains("\"value\":" + last + ",");
		List<String> messages = ShutdownLog.messages(output.toString().substring(closingAt));
		assertThat(ShutdownLog.milestones(messages))
			.containsExactlyElementsOf(ShutdownLog.expectedOnClose(false, false));
		assertThat(messages)
			.contains("Saved last value " + last + " to state file " + this.directory.resolve("last.txt"));
	}

	@Test
	void openStreamsGetTheShutdownEventAndDoNotHoldTheShutdown() throws Exception {
		start();
		List<EventStream> streams = new ArrayList<>();
		for (int i = 0; i < 3; i++) {
			EventStream stream = EventStream.open(this.client.httpClient(), this.port, "");
			assertThat(stream.next()).isNotNull();
			streams.add(stream);
		}
		long started = System.nanoTime();
		this.context.close();
		// The per-phase timeout is 30s: an open stream that held the drain would take it
		// all
		assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
		for (EventStream stream : streams) {
			Event last = null;
			for (Event event = stream.next(); event != null; event = stream.next()) {
				last = event;
			}
			assertThat(last).isNotNull();
			assertThat(last.name()).isEqualTo("shutdown");
			assertThat(last.data()).isEqualTo("{\"reason\":\"shutting down\"}");
			// Told when to come back: sequence.stream.reconnect-delay (3s) to twice that
			assertThat(last.retry()).isBetween(3000L, 6000L);
			stream.close();
		}
	}

	@Test
	void duringTheDrainDelayTheServiceServesWithConnectionCloseAndRefusesNewStreams() throws Exception {
		start("--shutdown.drain-delay=3s");
		Thread closer = new Thread(this.context::close, "test-closer");
		closer.start();
		await().atMost(Duration.ofSeconds(5)).until(() -> this.client.get("/readyz").statusCode() == 503);
		HttpConnection.Response last = HttpConnection.get(this.port, "/sequence/last");
		assertThat(last.status()).isEqualTo(200);
		assertThat(last.closesConnection()).as("Connection: close").isTrue();
		HttpResponse<String> stream = this.client.get("/sequence/stream");
		assertThat(stream.statusCode()).isEqualTo(503);
		assertThat(stream.headers().firstValue("Retry-After")).isPresent();
		assertThat(stream.body()).contains("shutting down");
		// An EventSource gives up for good on a 503: it is told to come back instead
		try (EventStream eventSource = EventStream.open(this.client.httpClient(), this.port, "")) {
			assertThat(eventSource.response().statusCode()).isEqualTo(200);
			Event told = eventSource.next();
			assertThat(told).isNotNull();
			assertThat(told.name()).isEqualTo("shutdown");
			assertThat(told.retry()).isBetween(3000L, 6000L);
			assertThat(eventSource.next()).isNull();
		}
		closer.join(TimeUnit.SECONDS.toMillis(30));
		assertThat(closer.isAlive()).isFalse();
		assertThat(this.context.isActive()).isFalse();
	}

	@Test
	void whenTheHttpDrainTimesOutThenWaitingLongPollsAreAnswered503AndAWarningCountsThem(CapturedOutput output)
			throws Exception {
		Files.writeString(this.directory.resolve("last.txt"), "Last number from random sequence: 42\n");
		start("--sequence.period=1h", "--spring.lifecycle.timeout-per-shutdown-phase=1s");
		CompletableFuture<HttpConnection.Response> next = CompletableFuture.supplyAsync(() -> {
			try {
				return HttpConnection.get(this.port, "/sequence/next?timeout=60s");
			}
			catch (IOException ex) {
				throw new UncheckedIOException(ex);
			}
		});
		await().atMost(Duration.ofSeconds(10)).until(() -> subscribers("poll") == 1);
		long started = System.nanoTime();
		this.context.close();
		assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(20));
		// Answered, not cut, and told not to reuse the connection
		HttpConnection.Response answered = next.get(10, TimeUnit.SECONDS);
		assertThat(answered.status()).isEqualTo(503);
		assertThat(answered.header("Retry-After")).isNotBlank();
		assertThat(answered.closesConnection()).as("Connection: close").isTrue();
		assertThat(answered.header("Content-Type")).startsWithIgnoringCase("application/problem+json");
		assertThat(output).containsPattern(
				"HTTP drain timed out after \\d+ ms with 1 request\\(s\\) in flight; answered 1 with 503, cut 0");
		List<String> messages = ShutdownLog.messages(output);
		assertThat(ShutdownLog.milestones(messages))
			.containsExactlyElementsOf(ShutdownLog.expectedOnClose(false, false));
		assertThat(ShutdownLog.indexOf(messages, "HTTP drain timed out"))
			.isLessThan(ShutdownLog.indexOf(messages, "Shutdown step 5 (http-drain) completed in"));
	}

}

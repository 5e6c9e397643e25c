package com.example.gracefulsequence.sequence.web;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import com.example.gracefulsequence.ServiceProcess;
import com.example.gracefulsequence.ShutdownLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Open event streams do not hold the shutdown of the packaged jar: each gets the
 * {@code shutdown} event and ends, and the process exits about as fast as when idle.
 *
 * @author graceful-sequence contributors
 */
class StreamShutdownIT {

	private static final int STREAMS = 5;

	@Test
	void whenSigtermArrivesWithStreamsOpenThenEachGetsTheShutdownEventAndTheProcessExitsQuickly(@TempDir Path directory)
			throws Exception {
		ExecutorService readers = Executors.newFixedThreadPool(STREAMS);
		try (ServiceProcess service = ServiceProcess.start(directory, "--sequence.period=500ms")) {
			service.awaitReady();
			List<List<String>> events = new ArrayList<>();
			List<CompletableFuture<Void>> ends = new ArrayList<>();
			for (int i = 0; i < STREAMS; i++) {
				List<String> lines = new CopyOnWriteArrayList<>();
				events.add(lines);
				ends.add(service.httpClient()
					.sendAsync(HttpRequest.newBuilder(service.uri("/sequence/stream")).build(),
							HttpResponse.BodyHandlers.ofLines())
					.thenAcceptAsync((response) -> read(response, lines), readers));
			}
			await("every stream has its first value").atMost(Duration.ofSeconds(10))
				.pollInterval(Duration.ofMillis(50))
				.until(() -> events.stream().allMatch((lines) -> lines.contains("event: value")));
			long signalled = System.nanoTime();
			service.sigterm();
			assertThat(service.awaitExit(Duration.ofSeconds(30))).isEqualTo(143);
			assertThat(Duration.ofNanos(System.nanoTime() - signalled)).as("SIGTERM to exit with streams open")
				.isLessThan(Duration.ofSeconds(10));
			CompletableFuture.allOf(ends.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
			for (List<String> lines : events) {
				assertThat(lines).as("the events of a stream")
					.containsSubsequence("event: value", "event: shutdown", "data: {\"reason\":\"shutting down\"}");
				assertThat(lines.subList(lines.indexOf("event: shutdown"), lines.size()))
					.as("nothing after the shutdown event")
					.containsExactly("event: shutdown", "data: {\"reason\":\"shutting down\"}", "");
			}
			List<String> messages = service.messages();
			assertThat(messages).contains("Told " + STREAMS + " open stream(s) that the service is shutting down");
			assertThat(ShutdownLog.milestones(messages)).containsExactlyElementsOf(ShutdownLog.expected(true, false));
			assertThat(ShutdownLog.stepMillis(messages, 3)).as("streams step").isLessThan(1000);
			assertThat(ShutdownLog.stepMillis(messages, 5)).as("HTTP drain step, 30s if a stream held it")
				.isLessThan(5000);
			List<Integer> received = service.receivedValues();
			assertThat(Files.readString(service.stateFile(), StandardCharsets.UTF_8))
				.isEqualTo("Last number from random sequence: " + received.get(received.size() - 1) + "\n");
		}
		finally {
			readers.shutdownNow();
		}
	}

	private static void read(HttpResponse<Stream<String>> response, List<String> lines) {
		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(response.headers().firstValue("Content-Type"))
			.hasValueSatisfying((contentType) -> assertThat(contentType).startsWith("text/event-stream"));
		try (Stream<String> body = response.body()) {
			body.forEach(lines::add);
		}
	}

}

package com.example.gracefulsequence.shutdown;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import com.example.gracefulsequence.HttpConnection;
import com.example.gracefulsequence.ServiceProcess;
import com.example.gracefulsequence.ShutdownLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Real signals to the packaged jar: the shutdown runs its steps in contract order, lets a
 * waiting long-poll finish (or answers it 503 when the drain runs out, and goes on at
 * once), saves the last value, says goodbye last and exits with the JVM's status for the
 * signal.
 *
 * @author graceful-sequence contributors
 */
class GracefulShutdownIT {

	private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(30);

	/**
	 * The producer's period where a test sends the signal between two values.
	 */
	private static final Duration PERIOD = Duration.ofSeconds(4);

	private static final JsonMapper json = JsonMapper.builder().build();

	@Test
	void whenSigtermArrivesThenTheLastValueIsSavedByeIsLastAndTheExitStatusIs143(@TempDir Path directory)
			throws Exception {
		try (ServiceProcess service = ServiceProcess.start(directory, "--sequence.period=200ms")) {
			service.awaitReady();
			// The packaged jar starts from the bean definitions generated at build time
			assertThat(service.messages()).anyMatch((message) -> message.startsWith("Starting AOT-processed"));
			service.awaitReceived(3, Duration.ofSeconds(10));
			service.sigterm();
			assertThat(service.awaitExit(EXIT_TIMEOUT)).isEqualTo(143);
			assertCleanShutdown(service, false);
			assertThat(idleShutdownMillis(service)).as("idle shutdown (no requests, no delay)").isLessThan(1000);
		}
	}

	@Test
	void whenSigintArrivesThenTheLastValueIsSavedByeIsLastAndTheExitStatusIs130(@TempDir Path directory)
			throws Exception {
		try (ServiceProcess service = ServiceProcess.start(directory, "--sequence.period=200ms")) {
			service.awaitReady();
			service.awaitReceived(3, Duration.ofSeconds(10));
			service.sigint();
			assertThat(service.awaitExit(EXIT_TIMEOUT)).isEqualTo(130);
			assertCleanShutdown(service, false);
		}
	}

	@Test
	void whenSigtermArrivesWhileANextIsWaitingThenItCompletesWith200(@TempDir Path directory) throws Exception {
		try (ServiceProcess service = ServiceProcess.start(directory,
				"--sequence.period=" + PERIOD.toSeconds() + "s")) {
			service.awaitReady();
			// Right after a value is published (not only logged: a poll sent before would
			// be answered by it at once), so the next one is a period away
			int before = service.receivedValues().size();
			service.awaitPublished(before + 1, PERIOD.multipliedBy(3));
			CompletableFuture<HttpResponse<String>> next = service.httpClient()
				.sendAsync(HttpRequest.newBuilder(service.uri("/sequence/next?timeout=30s")).build(),
						HttpResponse.BodyHandlers.ofString());
			await("the long-poll is waiting").atMost(PERIOD.dividedBy(2))
				.pollInterval(Duration.ofMillis(20))
				.until(() -> waitingPolls(service) == 1);
			assertThat(next).isNotDone();
			service.sigterm();
			HttpResponse<String> response = next.get(EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
			assertThat(response.statusCode()).isEqualTo(200);
			JsonNode body = json.readTree(response.body());
			assertThat(body.at("/source").asString()).isEqualTo("live");
			assertThat(service.awaitExit(EXIT_TIMEOUT)).isEqualTo(143);
			List<String> messages = service.messages();
			List<Integer> received = service.receivedValues();
			int index = body.at("/index").asInt();
			assertThat(index).isGreaterThan(before);
			assertThat(body.at("/value").asInt()).isEqualTo(received.get(index - 1));
			assertThat(indexOfReceived(messages, index))
				.as("the value the long-poll got was produced after the shutdown began")
				.isGreaterThan(ShutdownLog.indexOf(messages, "Shutdown step 1 (readiness) completed in"));
			assertCleanShutdown(service, false);
		}
	}

	@Test
	void whenTheHttpDrainRunsOutWhileANextIsWaitingThenItIsAnswered503AndTheShutdownGoesOnAtOnce(
			@TempDir Path directory) throws Exception {
		Path stateFile = directory.resolve(ServiceProcess.STATE_FILE);
		Files.writeString(stateFile, "Last number from random sequence: 7\n", StandardCharsets.UTF_8);
		ExecutorService client = Executors.newSingleThreadExecutor();
		try (ServiceProcess service = ServiceProcess.start(directory, "--sequence.period=1h",
				"--spring.lifecycle.timeout-per-shutdown-phase=2s")) {
			service.awaitReady();
			Future<HttpConnection.Response> next = client
				.submit(() -> HttpConnection.get(service.port(), "/sequence/next?timeout=60s"));
			await("the long-poll is waiting").atMost(Duration.ofSeconds(5))
				.pollInterval(Duration.ofMillis(20))
				.until(() -> waitingPolls(service) == 1);
			service.sigterm();
			HttpConnection.Response response = next.get(EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
			assertThat(response.status()).isEqualTo(503);
			assertThat(response.header("Content-Type")).startsWith("application/problem+json");
			assertThat(response.header("Retry-After")).isNotBlank();
			assertThat(response.closesConnection()).as("Connection: close").isTrue();
			assertThat(json.readTree(response.body()).at("/status").asInt()).isEqualTo(503);
			assertThat(service.awaitExit(EXIT_TIMEOUT)).isEqualTo(143);
			Instant exited = Instant.now();
			List<String> lines = service.logLines();
			assertThat(lines).filteredOn((line) -> line.contains(" WARN "))
				.map(ServiceProcess::message)
				.anySatisfy((message) -> assertThat(message).matches(
						"HTTP drain timed out after \\d+ ms with 1 request\\(s\\) in flight; answered 1 with 503, cut 0"));
			List<String> messages = service.messages();
			assertThat(ShutdownLog.milestones(messages)).containsExactlyElementsOf(ShutdownLog.expected(false, false));
			assertThat(ShutdownLog.stepMillis(messages, 5)).as("the HTTP drain, bounded by 2s").isBetween(1000L, 3000L);
			Instant completed = lines.stream()
				.filter((line) -> ServiceProcess.message(line).startsWith("Graceful shutdown completed in"))
				.map((line) -> Instant.parse(line.substring(0, line.indexOf(' '))))
				.findFirst()
				.orElseThrow();
			assertThat(Duration.between(completed, exited)).as("from the last step to the exit")
				.isLessThan(Duration.ofSeconds(1));
			assertThat(stateFile).hasContent("Last number from random sequence: 7");
		}
		finally {
			client.shutdownNow();
		}
	}

	@Test
	void whenASecondSigtermOrSigintArrivesDuringTheDrainDelayThenNothingChanges(@TempDir Path directory)
			throws Exception {
		try (ServiceProcess service = ServiceProcess.start(directory, "--sequence.period=500ms",
				"--shutdown.drain-delay=3s")) {
			service.awaitReady();
			service.awaitReceived(1, Duration.ofSeconds(10));
			service.sigterm();
			service.awaitMessage("the drain delay began", (message) -> message.startsWith("Serving for another"),
					Duration.ofSeconds(10));
			service.sigint();
			service.sigterm();
			assertThat(service.awaitExit(EXIT_TIMEOUT)).isEqualTo(143);
			assertCleanShutdown(service, true);
			assertThat(ShutdownLog.stepMillis(service.messages(), 4)).as("the drain delay was served in full")
				.isGreaterThanOrEqualTo(3000);
		}
	}

	@Test
	void whenSigtermArrivesDuringStartupThenTheProcessExitsWithoutAnInventedOrPartialStateFile(@TempDir Path directory)
			throws Exception {
		try (ServiceProcess service = ServiceProcess.start(directory, "--sequence.period=100ms")) {
			service.awaitMessage("the application context is being refreshed",
					(message) -> message.startsWith("Root WebApplicationContext: initialization completed"),
					ServiceProcess.STARTUP_TIMEOUT);
			assertThat(service.status("/readyz")).as("not ready yet").isNotEqualTo(200);
			service.sigterm();
			assertThat(service.awaitExit(Duration.ofSeconds(60))).isEqualTo(143);
			List<Integer> received = service.receivedValues();
			Path stateFile = service.stateFile();
			if (received.isEmpty()) {
				assertThat(stateFile).as("nothing was produced, so nothing is saved").doesNotExist();
			}
			else {
				assertThat(stateFile)
					.hasContent("Last number from random sequence: " + received.get(received.size() - 1));
				assertThat(Files.readString(stateFile, StandardCharsets.UTF_8)).endsWith("\n");
			}
			assertThat(stateFile.resolveSibling(ServiceProcess.STATE_FILE + ".tmp")).doesNotExist();
		}
	}

	static void assertCleanShutdown(ServiceProcess service, boolean drainDelay) throws Exception {
		List<String> lines = service.logLines();
		List<String> messages = service.messages();
		assertThat(ShutdownLog.milestones(messages)).as("shutdown milestones in the log")
			.containsExactlyElementsOf(ShutdownLog.expected(false, drainDelay));
		assertThat(lines.stream().filter((line) -> !line.isBlank()).reduce((first, second) -> second))
			.as("the last line printed")
			.hasValueSatisfying((line) -> assertThat(line).endsWith("I'm leaving, bye!"));
		List<Integer> received = service.receivedValues();
		assertThat(received).isNotEmpty();
		int last = received.get(received.size() - 1);
		assertThat(Files.readString(service.stateFile(), StandardCharsets.UTF_8))
			.isEqualTo("Last number from random sequence: " + last + "\n");
		assertThat(messages).contains("Saved last value " + last + " to state file " + service.stateFile());
		int producerStopped = ShutdownLog.indexOf(messages, "Shutdown step 6 (producer) completed in");
		assertThat(messages.subList(producerStopped, messages.size()))
			.as("no value is produced after the producer stopped")
			.noneMatch((message) -> message.startsWith("Received: "));
	}

	private static long idleShutdownMillis(ServiceProcess service) {
		return service.messages()
			.stream()
			.filter((message) -> message.matches("Graceful shutdown completed in \\d+ ms"))
			.mapToLong((message) -> Long.parseLong(message.replaceAll("\\D", "")))
			.findFirst()
			.orElseThrow();
	}

	private static double waitingPolls(ServiceProcess service) throws Exception {
		return service.subscribers("poll");
	}

	private static int indexOfReceived(List<String> messages, int index) {
		int seen = 0;
		for (int i = 0; i < messages.size(); i++) {
			if (messages.get(i).matches("Received: \\d+") && ++seen == index) {
				return i;
			}
		}
		throw new AssertionError("Fewer than " + index + " values were received");
	}

}

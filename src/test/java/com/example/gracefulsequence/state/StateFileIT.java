package com.example.gracefulsequence.state;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.example.gracefulsequence.EventStream;
import com.example.gracefulsequence.HttpConnection;
import com.example.gracefulsequence.ServiceProcess;
import com.example.gracefulsequence.ShutdownLog;
import com.example.gracefulsequence.StreamConnection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The state file as the packaged jar keeps it: restored on restart, a corrupt one moved
 * aside, a location that cannot work refused at startup, and write failures at run time
 * reported and recovered from without stopping the sequence.
 *
 * @author graceful-sequence contributors
 */
class StateFileIT {

	private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(30);

	// When the value in a state file of a previous run was emitted
	private static final Instant SAVED_AT = Instant.parse("2026-01-02T03:04:05.678Z");

	private static final Pattern VALID = Pattern.compile("Last number from random sequence: (\\d+)\n");

	private static final Pattern FAILED_WRITES = Pattern
		.compile("(?m)^sequence_state_writes_total\\{[^}]*outcome=\"failure\"[^}]*} (\\S+)$");

	private static final JsonMapper json = JsonMapper.builder().build();

	@Test
	void whenTheServiceRestartsInTheSameDirectoryThenItRestoresTheSavedValue(@TempDir Path directory) throws Exception {
		int saved;
		try (ServiceProcess first = ServiceProcess.start(directory, "--sequence.period=300ms")) {
			first.awaitReady();
			first.awaitReceived(2, Duration.ofSeconds(10));
			first.sigterm();
			assertThat(first.awaitExit(EXIT_TIMEOUT)).isEqualTo(143);
			saved = valueIn(first.stateFile());
			assertThat(saved).isEqualTo(first.receivedValues().get(first.receivedValues().size() - 1));
		}
		try (ServiceProcess second = ServiceProcess.start(directory, "--sequence.period=300ms")) {
			second.awaitReady();
			// The first new value comes a period after start, which may pass before the
			// service is ready: the log shows the restore and that it came first (with a
			// long period, the next test sees the restored value over HTTP)
			second.awaitReceived(1, Duration.ofSeconds(10));
			List<String> messages = second.messages();
			String restored = "Restored value " + saved + " from state file " + second.stateFile() + " saved at ";
			int restoredAt = ShutdownLog.indexOf(messages, restored);
			int firstValueAt = ShutdownLog.indexOf(messages, "Received: ");
			assertThat(restoredAt).as("the value is restored before the first new one").isLessThan(firstValueAt);
			assertThat(messages).noneMatch((message) -> message.startsWith("State file "));
			assertThat(awaitLiveValue(second).at("/index").asLong()).isPositive();
		}
	}

	@Test
	void whenAStateFileIsLeftFromAPreviousRunThenItsValueIsServedAndSavedAgainUntilTheFirstNewOne(
			@TempDir Path directory) throws Exception {
		Path saved = directory.resolve(ServiceProcess.STATE_FILE);
		Files.writeString(saved, "Last number from random sequence: 42\n", StandardCharsets.UTF_8);
		Files.setLastModifiedTime(saved, FileTime.from(SAVED_AT));
		try (ServiceProcess service = ServiceProcess.start(directory, "--sequence.period=1h")) {
			service.awaitReady();
			HttpConnection.Response last = service.get("/sequence/last");
			assertThat(last.status()).isEqualTo(200);
			JsonNode value = json.readTree(last.body());
			assertThat(value.at("/value").asInt()).isEqualTo(42);
			assertThat(value.at("/index").asLong()).isZero();
			assertThat(value.at("/source").asString()).isEqualTo("restored");
			assertThat(Instant.parse(value.at("/emittedAt").asString())).as("emittedAt, the file's modification time")
				.isEqualTo(SAVED_AT);
			try (StreamConnection stream = StreamConnection.open(service.port(), "/sequence/stream",
					"Accept: text/event-stream")) {
				assertThat(stream.status()).isEqualTo(200);
				EventStream.Event first = stream.next();
				assertThat(first).isNotNull();
				assertThat(first.name()).isEqualTo("value");
				assertThat(first.id()).matches("[0-9]+");
				assertThat(json.readTree(first.data())).as("the stream starts with the restored value")
					.isEqualTo(value);
				service.sigterm();
				EventStream.Event next = stream.next();
				assertThat(next).isNotNull();
				assertThat(next.name()).as("the event after the restored value").isEqualTo("shutdown");
			}
			assertThat(service.awaitExit(EXIT_TIMEOUT)).isEqualTo(143);
			assertThat(service.receivedValues()).as("values produced").isEmpty();
			assertThat(Files.readString(saved, StandardCharsets.UTF_8))
				.isEqualTo("Last number from random sequence: 42\n");
			assertThat(Files.getLastModifiedTime(saved).toInstant()).as("the saved value's emission time")
				.isEqualTo(SAVED_AT);
			assertThat(service.messages()).contains("Saved last value 42 to state file " + service.stateFile());
		}
	}

	@Test
	void whenThereIsNoStateFileThenThereIsNoValueUntilTheFirstNewOne(@TempDir Path directory) throws Exception {
		try (ServiceProcess service = ServiceProcess.start(directory, "--sequence.period=1h")) {
			service.awaitReady();
			HttpConnection.Response last = service.get("/sequence/last");
			assertThat(last.status()).isEqualTo(404);
			assertThat(last.header("Content-Type")).startsWith("application/problem+json");
			JsonNode problem = json.readTree(last.body());
			assertThat(problem.at("/status").asInt()).isEqualTo(404);
			assertThat(problem.at("/detail").asString()).contains("No value has been produced yet");
			service.sigterm();
			assertThat(service.awaitExit(EXIT_TIMEOUT)).isEqualTo(143);
			assertThat(service.stateFile()).as("nothing produced, nothing saved").doesNotExist();
			assertThat(service.messages()).contains("No value to save to state file " + service.stateFile());
		}
	}

	@Test
	void whenTheStateFileIsCorruptThenItIsMovedAsideWithAWarningAndTheServiceStartsEmpty(@TempDir Path directory)
			throws Exception {
		String torn = "Last number from rand";
		Files.writeString(directory.resolve(ServiceProcess.STATE_FILE), torn, StandardCharsets.UTF_8);
		try (ServiceProcess service = ServiceProcess.start(directory, "--sequence.period=300ms")) {
			service.awaitReady();
			Path stateFile = service.stateFile();
			List<Path> corrupt = filesNamed(directory,
					Pattern.quote(ServiceProcess.STATE_FILE) + "\\.corrupt-\\d{8}T\\d{9}Z");
			assertThat(corrupt).hasSize(1);
			assertThat(corrupt.get(0)).hasContent(torn);
			assertThat(service.logLines()).anySatisfy((line) -> {
				assertThat(line).contains(" WARN ");
				assertThat(ServiceProcess.message(line)).startsWith("State file " + stateFile + " is unusable: ")
					.contains("moved it to " + stateFile.resolveSibling(corrupt.get(0).getFileName()));
			});
			assertThat(service.messages()).noneMatch((message) -> message.startsWith("Restored value"));
			assertThat(awaitLiveValue(service).at("/index").asLong()).isPositive();
			assertThat(Files.readString(stateFile, StandardCharsets.UTF_8)).matches(VALID);
		}
	}

	@Test
	void whenTheStateFilePathIsADirectoryThenStartupFailsWithAMessageNamingThePath(@TempDir Path directory)
			throws Exception {
		Files.createDirectory(directory.resolve("state"));
		try (ServiceProcess service = ServiceProcess.start(directory, "--sequence.state-file=state")) {
			assertThat(service.awaitExit(Duration.ofSeconds(60))).isEqualTo(1);
			Path path = directory.toRealPath().resolve("state");
			assertThat(service.logLines()).contains("APPLICATION FAILED TO START")
				.anySatisfy((line) -> assertThat(line)
					.startsWith("Invalid value 'state' for configuration property 'sequence.state-file'"))
				.anySatisfy((line) -> assertThat(line).startsWith("It is a directory").contains(path.toString()));
			assertThat(directory.resolve("state")).isEmptyDirectory();
		}
	}

	@Test
	void whenTheStateFileDirectoryIsARegularFileThenStartupFailsWithAMessageNamingThePath(@TempDir Path directory)
			throws Exception {
		Files.writeString(directory.resolve("blocker"), "not a directory");
		try (ServiceProcess service = ServiceProcess.start(directory, "--sequence.state-file=blocker/last.txt")) {
			assertThat(service.awaitExit(Duration.ofSeconds(60))).isEqualTo(1);
			Path blocker = directory.toRealPath().resolve("blocker");
			assertThat(service.logLines()).contains("APPLICATION FAILED TO START")
				.anySatisfy((line) -> assertThat(line)
					.startsWith("Invalid value 'blocker/last.txt' for configuration property 'sequence.state-file'"))
				.anySatisfy((line) -> assertThat(line).startsWith("Its directory " + blocker + " cannot be written"));
			assertThat(blocker).hasContent("not a directory");
		}
	}

	@Test
	void whenStateFileWritesFailAtRunTimeThenTheSequenceGoesOnAndHealthIsDownUntilTheyWorkAgain(@TempDir Path directory)
			throws Exception {
		Path stateDirectory = directory.toRealPath().resolve("state");
		Path stateFile = stateDirectory.resolve("last.txt");
		try (ServiceProcess service = ServiceProcess.start(directory, "--sequence.period=200ms",
				"--sequence.state-file=" + stateFile)) {
			service.awaitReady();
			await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(stateFile));
			assertThat(stateFileHealth(service)).isEqualTo("UP");
			Path away = directory.resolve("state-away");
			Files.move(stateDirectory, away, StandardCopyOption.ATOMIC_MOVE);
			Files.writeString(stateDirectory, "a regular file where the directory was");
			long indexWhenBroken = lastIndex(service);
			await("writes fail").atMost(Duration.ofSeconds(15))
				.pollInterval(Duration.ofMillis(200))
				.until(() -> failedWrites(service) >= 5);
			assertThat(stateFileHealth(service)).isEqualTo("DOWN");
			assertThat(lastIndex(service)).as("the sequence goes on").isGreaterThanOrEqualTo(indexWhenBroken + 4);
			assertThat(errorsLogged(service, stateFile)).as("ERROR lines, not one per failed write").isEqualTo(1);
			Files.delete(stateDirectory);
			Files.move(away, stateDirectory, StandardCopyOption.ATOMIC_MOVE);
			await("health up again").atMost(Duration.ofSeconds(10))
				.pollInterval(Duration.ofMillis(200))
				.until(() -> "UP".equals(stateFileHealth(service)));
			Pattern recovered = Pattern.compile(Pattern.quote("State file " + stateFile + " is written again after ")
					+ "(\\d+) failed write\\(s\\)");
			assertThat(service.logLines())
				.filteredOn((line) -> recovered.matcher(ServiceProcess.message(line)).matches())
				.singleElement()
				.satisfies((line) -> assertThat(line).contains(" INFO "))
				.satisfies((line) -> {
					Matcher matcher = recovered.matcher(ServiceProcess.message(line));
					assertThat(matcher.matches()).isTrue();
					assertThat(Long.parseLong(matcher.group(1))).isGreaterThanOrEqualTo(5);
				});
			assertThat(errorsLogged(service, stateFile)).isEqualTo(1);
			service.sigterm();
			assertThat(service.awaitExit(EXIT_TIMEOUT)).isEqualTo(143);
			List<Integer> received = service.receivedValues();
			assertThat(valueIn(stateFile)).isEqualTo(received.get(received.size() - 1));
		}
	}

	/**
	 * Wait for the first value the service produces, a period after start.
	 * @param service the service
	 * @return the latest value, produced by the service
	 */
	private static JsonNode awaitLiveValue(ServiceProcess service) {
		HttpConnection.Response last = await("a value produced").atMost(Duration.ofSeconds(10))
			.pollInterval(Duration.ofMillis(50))
			.until(() -> service.get("/sequence/last"),
					(response) -> response.status() == 200 && "live".equals(source(response)));
		return json.readTree(last.body());
	}

	private static String source(HttpConnection.Response response) {
		return json.readTree(response.body()).at("/source").asString();
	}

	private static int valueIn(Path stateFile) throws Exception {
		String content = Files.readString(stateFile, StandardCharsets.UTF_8);
		Matcher matcher = VALID.matcher(content);
		assertThat(matcher.matches()).as("valid state file content '%s'", content).isTrue();
		return Integer.parseInt(matcher.group(1));
	}

	private static List<Path> filesNamed(Path directory, String regex) throws Exception {
		try (Stream<Path> files = Files.list(directory)) {
			return files.filter((file) -> file.getFileName().toString().matches(regex)).toList();
		}
	}

	private static String stateFileHealth(ServiceProcess service) throws Exception {
		HttpConnection.Response health = service.get("/actuator/health");
		return json.readTree(health.body()).at("/components/stateFile/status").asString();
	}

	private static double failedWrites(ServiceProcess service) throws Exception {
		Matcher matcher = FAILED_WRITES.matcher(service.get("/actuator/prometheus").body());
		return matcher.find() ? Double.parseDouble(matcher.group(1)) : 0;
	}

	private static long lastIndex(ServiceProcess service) throws Exception {
		return json.readTree(service.get("/sequence/last").body()).at("/index").asLong();
	}

	private static long errorsLogged(ServiceProcess service, Path stateFile) {
		return service.logLines()
			.stream()
			.filter((line) -> line.contains(" ERROR ")
					&& ServiceProcess.message(line).startsWith("Could not write state file " + stateFile))
			.count();
	}

}

package com.example.gracefulsequence.sequence;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.example.gracefulsequence.EventStream.Event;
import com.example.gracefulsequence.ServiceProcess;
import com.example.gracefulsequence.StreamConnection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The cap on open streams of the packaged jar fits its heap: in a small heap, with the
 * cap left to the service, as many streams as the cap open at once are all served and all
 * told to go at shutdown, those past it are told that the service is busy, and the JVM
 * never runs out of memory. A cap that the heap cannot hold is refused at startup.
 *
 * @author graceful-sequence contributors
 */
class SubscriberCapacityIT {

	private static final Pattern CAPACITY = Pattern
		.compile("Taking up to (\\d+) open streams and waiting long-polls, .*");

	private static final Pattern HEAP_HOLDS = Pattern
		.compile(".* holds (\\d+) open streams .*; set it to (\\d+) or less.*");

	private static final String EVENT_STREAM = "Accept: text/event-stream";

	private static final int PAST_THE_CAP = 5;

	private static final JsonMapper json = JsonMapper.builder().build();

	@Test
	void whenAsManyStreamsAsTheHeapHoldsOpenAtOnceThenEachIsServedThoseBeyondAreToldBusyAndAllAreToldToGo(
			@TempDir Path directory) throws Exception {
		try (ServiceProcess service = ServiceProcess.startWithJvmOptions(directory,
				List.of("-Xmx128m", "-XX:+UseSerialGC", "-XX:+ExitOnOutOfMemoryError"), "--sequence.period=500ms")) {
			service.awaitReady();
			int cap = capacity(service);
			assertThat(cap).as("what a 128 MiB heap holds").isBetween(500, 2000);
			service.awaitReceived(1, Duration.ofSeconds(10));
			List<StreamConnection> connections = new ArrayList<>();
			try {
				// Every request is written before any answer is read
				for (int i = 0; i < cap + PAST_THE_CAP; i++) {
					connections.add(StreamConnection.open(service.port(), "/sequence/stream", EVENT_STREAM));
				}
				List<StreamConnection> streams = new ArrayList<>();
				List<Event> busy = new ArrayList<>();
				for (StreamConnection connection : connections) {
					assertThat(connection.status()).isEqualTo(200);
					assertThat(connection.header("Content-Type")).startsWith("text/event-stream");
					Event first = connection.next();
					assertThat(first).isNotNull();
					if ("busy".equals(first.name())) {
						busy.add(first);
						assertThat(connection.next()).as("the end of a busy answer").isNull();
					}
					else {
						assertThat(first.name()).isEqualTo("value");
						streams.add(connection);
					}
				}
				assertThat(streams).as("streams served").hasSize(cap);
				assertThat(busy).as("streams turned away").hasSize(PAST_THE_CAP).allSatisfy((event) -> {
					assertThat(event.retry()).as("retry").isBetween(3000L, 6000L);
					JsonNode problem = json.readTree(event.data());
					assertThat(problem.at("/status").asInt()).isEqualTo(503);
					assertThat(problem.at("/detail").asString()).contains("sequence.max-subscribers");
				});
				await("every stream counted").atMost(Duration.ofSeconds(10))
					.pollInterval(Duration.ofMillis(100))
					.until(() -> streams(service) == cap);
				long indexWhenAllOpen = lastIndex(service);
				for (StreamConnection stream : streams) {
					assertThat(nextValueAfter(stream, indexWhenAllOpen)).as("a value after all streams were open")
						.isGreaterThan(indexWhenAllOpen);
				}
				assertThat(service.isAlive()).isTrue();
				service.sigterm();
				for (StreamConnection stream : streams) {
					Event goodbye = stream.next();
					while (goodbye != null && "value".equals(goodbye.name())) {
						goodbye = stream.next();
					}
					assertThat(goodbye).as("the event after the values").isNotNull();
					assertThat(goodbye.name()).isEqualTo("shutdown");
					assertThat(goodbye.retry()).as("retry").isBetween(3000L, 6000L);
					assertThat(stream.next()).as("the end of the stream").isNull();
				}
			}
			finally {
				for (StreamConnection connection : connections) {
					connection.close();
				}
			}
			assertThat(service.awaitExit(Duration.ofSeconds(30))).isEqualTo(143);
			List<String> lines = service.logLines();
			assertThat(lines).noneMatch((line) -> line.contains("OutOfMemoryError"));
			assertThat(lines.stream().filter((line) -> !line.isBlank()).reduce((first, second) -> second))
				.as("the last line printed")
				.hasValueSatisfying((line) -> assertThat(line).endsWith("I'm leaving, bye!"));
			assertThat(service.messages())
				.contains("Told " + cap + " open stream(s) that the service is shutting down");
		}
	}

	@Test
	void whenTheCapIsMoreThanTheHeapHoldsThenStartupIsRefusedWithOneMessageNamingThePropertyAndWhatFits(
			@TempDir Path directory) throws Exception {
		try (ServiceProcess service = ServiceProcess.startWithJvmOptions(directory, List.of("-Xmx64m"),
				"--sequence.max-subscribers=10000")) {
			assertThat(service.awaitExit(Duration.ofSeconds(60))).isEqualTo(1);
			List<String> lines = service.logLines();
			assertThat(lines).contains("APPLICATION FAILED TO START")
				.filteredOn((line) -> line.contains(" ERROR "))
				.as("errors logged")
				.hasSize(1);
			assertThat(lines).filteredOn((line) -> line.contains("sequence.max-subscribers"))
				.singleElement()
				.satisfies((line) -> assertThat(line)
					.startsWith("Invalid value '10000' for configuration property 'sequence.max-subscribers'"));
			assertThat(lines).filteredOn((line) -> HEAP_HOLDS.matcher(line).matches())
				.singleElement()
				.satisfies((line) -> {
					Matcher matcher = HEAP_HOLDS.matcher(line);
					assertThat(matcher.matches()).isTrue();
					int fits = Integer.parseInt(matcher.group(1));
					assertThat(fits).as("what a 64 MiB heap holds").isBetween(1, 1000);
					assertThat(matcher.group(2)).as("the value it advises").isEqualTo(matcher.group(1));
				});
			assertThat(lines).noneMatch((line) -> line.contains("Started GracefulSequenceApplication"));
		}
	}

	private static int capacity(ServiceProcess service) {
		return service.messages()
			.stream()
			.map(CAPACITY::matcher)
			.filter(Matcher::matches)
			.map((matcher) -> Integer.valueOf(matcher.group(1)))
			.findFirst()
			.orElseThrow(() -> new AssertionError("No log line says how many streams it takes"));
	}

	private static long nextValueAfter(StreamConnection stream, long index) throws IOException {
		for (Event event = stream.next(); event != null; event = stream.next()) {
			long next = json.readTree(event.data()).at("/index").asLong();
			if (next > index) {
				return next;
			}
		}
		throw new AssertionError("The stream ended before a value after index " + index);
	}

	private static double streams(ServiceProcess service) throws IOException {
		return service.subscribers("stream");
	}

	private static long lastIndex(ServiceProcess service) throws IOException {
		return json.readTree(service.get("/sequence/last").body()).at("/index").asLong();
	}

}

package com.example.gracefulsequence.sequence.web;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import com.example.gracefulsequence.EventStream.Event;
import com.example.gracefulsequence.ServiceProcess;
import com.example.gracefulsequence.StreamConnection;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Stream ids of the packaged jar across a restart in the same working directory: they
 * keep increasing, the restored value keeps the id it had, and a client that reconnects
 * with the last id it saw before the restart gets every value the new instance holds
 * after it (the restored value, if the client did not have it, and every value since),
 * then the live ones.
 *
 * @author graceful-sequence contributors
 */
class StreamResumeIT {

	private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(30);

	private static final String EVENT_STREAM = "Accept: text/event-stream";

	// Streams are told to go in shutdown step 3 and the producer stops in step 6: a value
	// produced in between is one that no stream saw, so the first run is repeated until
	// its stream saw its last value (a few milliseconds out of a period, so rarely)
	private static final int FIRST_RUN_ATTEMPTS = 3;

	private static final JsonMapper json = JsonMapper.builder().build();

	@Test
	void whenTheServiceRestartsThenIdsKeepIncreasingAndAStreamResumesAfterTheLastIdItSaw(@TempDir Path directory)
			throws Exception {
		FirstRun first = null;
		for (int attempt = 1; first == null && attempt <= FIRST_RUN_ATTEMPTS; attempt++) {
			first = runAndStop(Files.createDirectory(directory.resolve("attempt-" + attempt)));
		}
		assertThat(first).as("a first run whose stream saw its last value, in %d attempts", FIRST_RUN_ATTEMPTS)
			.isNotNull();
		Seen lastOfFirstRun = first.seen().get(first.seen().size() - 1);
		try (ServiceProcess restarted = ServiceProcess.start(first.directory(), "--sequence.period=1h")) {
			restarted.awaitReady();
			try (StreamConnection stream = StreamConnection.open(restarted.port(), "/sequence/stream", EVENT_STREAM)) {
				Seen restored = Seen.of(stream.next());
				assertThat(restored.source()).isEqualTo("restored");
				assertThat(restored.value()).isEqualTo(lastOfFirstRun.value());
				assertThat(restored.id()).as("the id of the restored value, the first run's last")
					.isEqualTo(lastOfFirstRun.id());
			}
			restarted.sigterm();
			assertThat(restarted.awaitExit(EXIT_TIMEOUT)).isEqualTo(143);
		}
		try (ServiceProcess second = ServiceProcess.start(first.directory(), "--sequence.period=200ms",
				"--sequence.stream.replay=1000")) {
			second.awaitReady();
			second.awaitReceived(3, Duration.ofSeconds(10));
			List<Seen> resumed;
			try (StreamConnection stream = StreamConnection.open(second.port(), "/sequence/stream", EVENT_STREAM,
					"Last-Event-ID: " + lastOfFirstRun.id())) {
				assertThat(stream.status()).isEqualTo(200);
				resumed = values(stream, 6);
			}
			assertThat(resumed).extracting(Seen::index)
				.as("every value of the second run, in order, without the restored one")
				.containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
			assertThat(resumed).extracting(Seen::value)
				.containsExactlyElementsOf(second.receivedValues().subList(0, 6));
			assertThat(resumed).extracting(Seen::source).containsOnly("live");
			assertIncreasing(resumed);
			assertThat(resumed.get(0).id()).as("the ids of the second run, after every id of the first")
				.isGreaterThan(first.seen().stream().mapToLong(Seen::id).max().orElseThrow());
			second.sigterm();
			assertThat(second.awaitExit(EXIT_TIMEOUT)).isEqualTo(143);
		}
	}

	@Test
	void whenValuesCameDuringTheDrainDelayThenAReturningClientGetsTheRestoredValueAndEveryValueSince(
			@TempDir Path directory) throws Exception {
		List<Seen> seen = new ArrayList<>();
		List<Integer> producedBefore;
		try (ServiceProcess before = ServiceProcess.start(directory, "--sequence.period=500ms",
				"--shutdown.drain-delay=2s")) {
			before.awaitReady();
			try (StreamConnection stream = StreamConnection.open(before.port(), "/sequence/stream", EVENT_STREAM)) {
				seen.addAll(values(stream, 2));
				before.sigterm();
				for (Event event = stream.next(); event != null
						&& !"shutdown".equals(event.name()); event = stream.next()) {
					seen.add(Seen.of(event));
				}
			}
			assertThat(before.awaitExit(EXIT_TIMEOUT)).isEqualTo(143);
			producedBefore = before.receivedValues();
		}
		Seen lastSeen = seen.get(seen.size() - 1);
		assertThat(producedBefore).as("values produced after the stream was told to go, in the drain delay")
			.hasSizeGreaterThan((int) lastSeen.index() + 1);
		try (ServiceProcess after = ServiceProcess.start(directory, "--sequence.period=500ms")) {
			after.awaitReady();
			// The new instance produces before the client comes back
			after.awaitReceived(3, Duration.ofSeconds(10));
			try (StreamConnection stream = StreamConnection.open(after.port(), "/sequence/stream", EVENT_STREAM,
					"Last-Event-ID: " + lastSeen.id())) {
				assertThat(stream.status()).isEqualTo(200);
				Seen restored = Seen.of(stream.next());
				assertThat(restored.source()).isEqualTo("restored");
				assertThat(restored.value()).as("the last value of the instance before")
					.isEqualTo(producedBefore.get(producedBefore.size() - 1));
				assertThat(restored.id()).isGreaterThan(lastSeen.id());
				List<Seen> since = values(stream, 4);
				assertThat(since).extracting(Seen::index)
					.as("every value of the new instance, in order, from its first")
					.containsExactly(1L, 2L, 3L, 4L);
				assertThat(since).extracting(Seen::value)
					.containsExactlyElementsOf(after.receivedValues().subList(0, 4));
				assertIncreasing(List.of(restored, since.get(0)));
			}
			after.sigterm();
			assertThat(after.awaitExit(EXIT_TIMEOUT)).isEqualTo(143);
		}
	}

	/**
	 * Run the service in the given directory, read a few values off a stream, stop it
	 * with SIGTERM and read the rest of the stream.
	 * @param directory the working directory
	 * @return what the stream saw, or {@code null} if a value came after it was told to
	 * go
	 */
	private static @Nullable FirstRun runAndStop(Path directory) throws Exception {
		try (ServiceProcess service = ServiceProcess.start(directory, "--sequence.period=200ms")) {
			service.awaitReady();
			List<Seen> seen = new ArrayList<>();
			try (StreamConnection stream = StreamConnection.open(service.port(), "/sequence/stream", EVENT_STREAM)) {
				assertThat(stream.status()).isEqualTo(200);
				seen.addAll(values(stream, 4));
				// Right after a value, so that the next one is a period away
				service.sigterm();
				for (Event event = stream.next(); event != null
						&& !"shutdown".equals(event.name()); event = stream.next()) {
					seen.add(Seen.of(event));
				}
			}
			assertThat(service.awaitExit(EXIT_TIMEOUT)).isEqualTo(143);
			assertIncreasing(seen);
			for (int i = 1; i < seen.size(); i++) {
				assertThat(seen.get(i).index()).as("consecutive values").isEqualTo(seen.get(i - 1).index() + 1);
			}
			List<Integer> received = service.receivedValues();
			Seen last = seen.get(seen.size() - 1);
			assertThat(last.index()).isLessThanOrEqualTo(received.size());
			assertThat(last.value()).isEqualTo(received.get((int) last.index() - 1));
			return (last.index() == received.size()) ? new FirstRun(directory, seen) : null;
		}
	}

	private static List<Seen> values(StreamConnection stream, int count) throws Exception {
		List<Seen> values = new ArrayList<>();
		while (values.size() < count) {
			values.add(Seen.of(stream.next()));
		}
		return values;
	}

	private static void assertIncreasing(List<Seen> seen) {
		for (int i = 1; i < seen.size(); i++) {
			assertThat(seen.get(i).id()).as("ids increase").isGreaterThan(seen.get(i - 1).id());
		}
	}

	/**
	 * The directory of a first run and the values its stream saw, the last one its last.
	 */
	private record FirstRun(Path directory, List<Seen> seen) {

	}

	/**
	 * A value event as a stream client saw it.
	 */
	private record Seen(long id, long index, int value, String source) {

		static Seen of(@Nullable Event event) {
			assertThat(event).as("a value event").isNotNull();
			assertThat(event.name()).isEqualTo("value");
			assertThat(event.id()).as("a decimal id").matches("[0-9]{1,18}");
			JsonNode data = json.readTree(event.data());
			return new Seen(Long.parseLong(event.id()), data.at("/index").asLong(), data.at("/value").asInt(),
					data.at("/source").asString());
		}

	}

}

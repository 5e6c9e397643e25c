package com.example.gracefulsequence.sequence.web;

import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.example.gracefulsequence.EventStream;
import com.example.gracefulsequence.EventStream.Event;
import com.example.gracefulsequence.Meters;
import com.example.gracefulsequence.StreamConnection;
import com.example.gracefulsequence.TemporaryStateFile;
import io.micrometer.core.instrument.MeterRegistry;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.tomcat.TomcatConnectorCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.test.annotation.DirtiesContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Full-application tests of {@code /sequence/stream} over real connections: the events,
 * clients that vanish and clients that stop reading.
 *
 * @author graceful-sequence contributors
 */
@DirtiesContext
@TemporaryStateFile
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT, properties = "sequence.period=10ms")
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StreamTests {

	private final HttpClient client = HttpClient.newHttpClient();

	private final List<EventStream> streams = new ArrayList<>();

	@LocalServerPort
	private int port;

	@Autowired
	private MeterRegistry meterRegistry;

	@Autowired
	private JsonMapper jsonMapper;

	@AfterEach
	void closeStreams() {
		this.streams.forEach(EventStream::close);
	}

	private EventStream open(String query) throws IOException, InterruptedException {
		EventStream stream = EventStream.open(this.client, this.port, query);
		this.streams.add(stream);
		return stream;
	}

	private double openStreams() {
		return Meters.subscribers(this.meterRegistry, "stream");
	}

	@Test
	void aStreamStartsWithTheCurrentValueThenSendsEachNewValueWithAnIdThatIncreases() throws Exception {
		EventStream stream = open("");
		assertThat(stream.response().statusCode()).isEqualTo(200);
		assertThat(stream.response().headers().firstValue("Content-Type"))
			.hasValueSatisfying((type) -> assertThat(type).startsWith("text/event-stream"));
		long previousIndex = -1;
		long previousId = -1;
		for (int i = 0; i < 10; i++) {
			Event event = stream.next();
			assertThat(event).isNotNull();
			assertThat(event.name()).isEqualTo("value");
			JsonNode data = this.jsonMapper.readTree(event.data());
			assertThat(data.get("value").asInt()).isBetween(0, 119);
			assertThat(data.get("source").asString()).isEqualTo("live");
			assertThat(event.id()).matches("[0-9]+");
			long id = Long.parseLong(event.id());
			long index = data.get("index").asLong();
			if (previousIndex >= 0) {
				assertThat(index).isEqualTo(previousIndex + 1);
				assertThat(id).isGreaterThan(previousId);
			}
			previousIndex = index;
			previousId = id;
		}
	}

	@Test
	void aStreamThatResumesWithLastEventIdGetsEveryValueAfterItThenTheLiveOnes() throws Exception {
		List<Event> seen = new ArrayList<>();
		EventStream first = open("?count=5");
		for (Event event = first.next(); event != null; event = first.next()) {
			seen.add(event);
		}
		long indexAfter = index(seen.get(4)) + 10;
		await().atMost(Duration.ofSeconds(10)).until(() -> currentIndex() > indexAfter);
		EventStream resumed = EventStream.open(this.client, this.port, "", seen.get(2).id());
		this.streams.add(resumed);
		assertThat(resumed.next()).isEqualTo(seen.get(3));
		assertThat(resumed.next()).isEqualTo(seen.get(4));
		long previous = index(seen.get(4));
		for (int i = 0; i < 15; i++) {
			Event event = resumed.next();
			assertThat(event).isNotNull();
			assertThat(index(event)).as("%s after %s", event, seen).isEqualTo(previous + 1);
			previous = index(event);
		}
	}

	@Test
	void aClientThatClosesItsStreamWhileItIsWrittenLeavesTheStreamsThatComeAfterItIntact() throws Exception {
		// Tomcat recycles a response for the next request once the container has
		// completed it: nothing may be written to it after that
		for (int round = 0; round < 5; round++) {
			Event from = open("?count=1").next();
			assertThat(from).isNotNull();
			long behind = index(from) + 20;
			await().atMost(Duration.ofSeconds(10)).until(() -> currentIndex() > behind);
			// Closed with a backlog of missed values still being written
			EventStream stream = EventStream.open(this.client, this.port, "", from.id());
			assertThat(stream.next()).isNotNull();
			stream.close();
			for (int i = 0; i < 10; i++) {
				EventStream probe = EventStream.open(HttpClient.newHttpClient(), this.port, "?count=2");
				assertThat(probe.next()).as("round %d, probe %d", round, i).isNotNull();
				assertThat(probe.next()).as("round %d, probe %d", round, i).isNotNull();
				assertThat(probe.next()).isNull();
			}
		}
	}

	@Test
	void aLastEventIdOlderThanEverythingHeldStartsWithEveryHeldValueInOrder() throws Exception {
		EventStream first = open("?count=1");
		Event old = first.next();
		assertThat(old).isNotNull();
		// sequence.stream.replay is 64: gone from what the service holds
		long gone = index(old) + 70;
		await().atMost(Duration.ofSeconds(10)).until(() -> currentIndex() > gone);
		for (String id : List.of(old.id(), "0")) {
			long current = currentIndex();
			try (StreamConnection stream = StreamConnection.open(this.port, "/sequence/stream",
					StreamConnection.EVENT_STREAM, "Last-Event-ID: " + id)) {
				assertThat(stream.status()).isEqualTo(200);
				long oldest = index(stream.next());
				assertThat(oldest).as("the oldest value held, not the current one")
					.isLessThan(current)
					.isGreaterThan(current - 64);
				for (long expected = oldest + 1; expected <= current; expected++) {
					assertThat(index(stream.next())).as("the held values in order").isEqualTo(expected);
				}
			}
		}
	}

	@Test
	void aLastEventIdAheadOfEverythingHeldOrNotANumberStartsWithTheCurrentValue() throws Exception {
		assertThat(open("?count=1").next()).isNotNull();
		List<byte[]> ids = List.of("99999999999999".getBytes(StandardCharsets.US_ASCII),
				"-1".getBytes(StandardCharsets.US_ASCII),
				"99999999999999999999999999".getBytes(StandardCharsets.US_ASCII),
				"abc".getBytes(StandardCharsets.US_ASCII), "x".repeat(4000).getBytes(StandardCharsets.US_ASCII),
				new byte[] { (byte) 0xc3, (byte) 0xa9, (byte) 0xff, (byte) 0x80, '1' }, new byte[0]);
		for (byte[] id : ids) {
			long current = currentIndex();
			try (StreamConnection stream = StreamConnection.open(this.port, "/sequence/stream",
					StreamConnection.EVENT_STREAM, "Last-Event-ID: " + new String(id, StandardCharsets.ISO_8859_1))) {
				assertThat(stream.status()).as("Last-Event-ID of %d bytes", id.length).isEqualTo(200);
				assertThat(index(stream.next())).as("the first event's index").isGreaterThanOrEqualTo(current);
			}
		}
	}

	private long index(@Nullable Event event) {
		assertThat(event).as("a value event").isNotNull();
		return this.jsonMapper.readTree(event.data()).get("index").asLong();
	}

	private long currentIndex() {
		return (long) this.meterRegistry.get("sequence.values").counter().count();
	}

	@Test
	void aStreamWithACountEndsAfterThatManyValueEvents() throws Exception {
		EventStream stream = open("?count=3");
		List<Event> events = new ArrayList<>();
		for (Event event = stream.next(); event != null; event = stream.next()) {
			events.add(event);
		}
		assertThat(events).hasSize(3).allSatisfy((event) -> assertThat(event.name()).isEqualTo("value"));
		await().atMost(Duration.ofSeconds(5)).until(() -> openStreams() == 0);
	}

	@Test
	void clientsThatVanishAreForgottenAndHoldNoThreads() throws Exception {
		open("?count=1").next();
		await().atMost(Duration.ofSeconds(5)).until(() -> openStreams() == 0);
		long threadsBefore = threadsOutsideTheContainerPool();
		for (int i = 0; i < 300; i++) {
			try (StreamConnection stream = StreamConnection.open(this.port, "/sequence/stream",
					StreamConnection.EVENT_STREAM)) {
				assertThat(stream.status()).isEqualTo(200);
				// Reset rather than close politely, as a crashed client would
				stream.reset();
			}
		}
		await().atMost(Duration.ofSeconds(10)).until(() -> openStreams() == 0);
		// Tomcat's worker pool may have grown while completing the streams (it is bounded
		// and its idle threads time out); no thread may be held for a client, anywhere
		await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
			assertThat(threadsOutsideTheContainerPool()).isLessThanOrEqualTo(threadsBefore + 2);
			assertThat(Thread.getAllStackTraces().entrySet())
				.filteredOn((thread) -> thread.getKey().getName().contains("-exec-"))
				.noneSatisfy((thread) -> assertThat(thread.getValue()).anySatisfy(
						(frame) -> assertThat(frame.getClassName()).startsWith("com.example.gracefulsequence")));
		});
	}

	private static long threadsOutsideTheContainerPool() {
		return Thread.getAllStackTraces()
			.keySet()
			.stream()
			.filter((thread) -> !thread.getName().contains("-exec-"))
			.count();
	}

	@Test
	void aClientThatStopsReadingIsDroppedWithoutDelayingTheOthers() throws Exception {
		EventStream reader = open("");
		assertThat(reader.next()).isNotNull();
		try (StreamConnection stalled = StreamConnection.open(this.port, 1024, "/sequence/stream",
				StreamConnection.EVENT_STREAM)) {
			await().atMost(Duration.ofSeconds(5)).until(() -> openStreams() == 2);
			double valuesBefore = this.meterRegistry.get("sequence.values").counter().count();
			long previous = -1;
			while (openStreams() == 2) {
				Event event = reader.next();
				assertThat(event).isNotNull();
				long index = index(event);
				if (previous >= 0) {
					assertThat(index).isEqualTo(previous + 1);
				}
				previous = index;
			}
			// The stalled client was dropped; the reader and the producer went on
			// meanwhile
			assertThat(openStreams()).isEqualTo(1);
			assertThat(this.meterRegistry.get("sequence.values").counter().count()).isGreaterThan(valuesBefore);
			Event after = reader.next();
			assertThat(after).isNotNull();
			assertThat(index(after)).isEqualTo(previous + 1);
		}
	}

	/**
	 * Small socket buffers on the server, so that a client that stops reading fills them
	 * in a moment rather than after megabytes.
	 */
	@TestConfiguration(proxyBeanMethods = false)
	static class SmallSocketBuffers {

		@Bean
		TomcatConnectorCustomizer smallSendBuffer() {
			return (connector) -> connector.setProperty("socket.txBufSize", "4096");
		}

	}

}

package com.example.gracefulsequence.sequence.web;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import com.example.gracefulsequence.EventStream;
import com.example.gracefulsequence.EventStream.Event;
import com.example.gracefulsequence.ServiceProcess;
import com.example.gracefulsequence.ShutdownLog;
import com.example.gracefulsequence.StreamConnection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A client of the packaged jar that opens a stream and stops reading: it is dropped, what
 * the server queues for it stays small, and it holds up neither the producer nor a client
 * that reads.
 *
 * @author graceful-sequence contributors
 */
class StalledReaderIT {

	private static final JsonMapper json = JsonMapper.builder().build();

	// The stalled connection's kernel buffers fill within a second or so at this period
	private static final String PERIOD = "--sequence.period=5ms";

	/**
	 * Far above the send buffer the service sets ({@code ConnectionTuning.SEND_BUFFER},
	 * which Linux doubles), far below the megabytes the kernel grows it to on loopback
	 * when it is left alone.
	 */
	private static final long MAX_QUEUED = 256 * 1024;

	@Test
	void whenAClientStopsReadingThenItIsDroppedWhileAReadingClientGetsEveryValue(@TempDir Path directory)
			throws Exception {
		ExecutorService readers = Executors.newSingleThreadExecutor();
		try (ServiceProcess service = ServiceProcess.start(directory, PERIOD)) {
			service.awaitReady();
			List<Long> indexes = new ArrayList<>();
			EventStream reader = EventStream.open(service.httpClient(), service.port(), "");
			CompletableFuture<Void> reading = CompletableFuture.runAsync(() -> read(reader, indexes), readers);
			try (StreamConnection stalled = stalledStream(service.port())) {
				await("both streams open").atMost(Duration.ofSeconds(10))
					.pollInterval(Duration.ofMillis(10))
					.until(() -> streams(service) == 2);
				boolean ss = Sockets.available();
				AtomicLong maxQueued = new AtomicLong();
				await("the stalled stream dropped").atMost(Duration.ofSeconds(30))
					.pollInterval(Duration.ofMillis(100))
					.until(() -> {
						// Sampled while the stream is held, when the server queues most
						if (ss) {
							maxQueued.accumulateAndGet(Sockets.sendQueue(service.port(), stalled.localPort()),
									Math::max);
						}
						return streams(service) == 1;
					});
				int readAtDrop = size(indexes);
				await("the reader goes on").atMost(Duration.ofSeconds(10))
					.pollInterval(Duration.ofMillis(20))
					.until(() -> size(indexes) >= readAtDrop + 200);
				if (ss) {
					assertThat(maxQueued.get()).as("bytes queued by the server for the stalled stream")
						.isPositive()
						.isLessThan(MAX_QUEUED);
				}
			}
			reader.close();
			reading.exceptionally((ex) -> null).get(10, TimeUnit.SECONDS);
			List<Long> read;
			synchronized (indexes) {
				read = List.copyOf(indexes);
			}
			for (int i = 1; i < read.size(); i++) {
				assertThat(read.get(i)).as("the index after %d", read.get(i - 1)).isEqualTo(read.get(i - 1) + 1);
			}
			assertThat(service.messages()).noneMatch((message) -> message.startsWith("Could not emit value"));
		}
		finally {
			readers.shutdownNow();
		}
	}

	@Test
	void whenAStalledReaderWasDroppedThenItHoldsNeitherTheHttpDrainNorTheExit(@TempDir Path directory)
			throws Exception {
		try (ServiceProcess service = ServiceProcess.start(directory, PERIOD,
				"--spring.lifecycle.timeout-per-shutdown-phase=10s")) {
			service.awaitReady();
			try (StreamConnection stalled = stalledStream(service.port())) {
				await("the stalled stream open").atMost(Duration.ofSeconds(10))
					.pollInterval(Duration.ofMillis(10))
					.until(() -> streams(service) == 1);
				await("the stalled stream dropped").atMost(Duration.ofSeconds(30))
					.pollInterval(Duration.ofMillis(100))
					.until(() -> streams(service) == 0);
				service.sigterm();
				assertThat(service.awaitExit(Duration.ofSeconds(30))).isEqualTo(143);
			}
			List<String> messages = service.messages();
			assertThat(messages).noneMatch((message) -> message.startsWith("HTTP drain timed out"));
			assertThat(ShutdownLog.stepMillis(messages, 5)).as("the HTTP drain").isLessThan(2000);
		}
	}

	/**
	 * Open a stream with a small receive buffer and never read it.
	 * @param port the port of the service
	 * @return the connection
	 */
	private static StreamConnection stalledStream(int port) throws IOException {
		return StreamConnection.open(port, 4096, "/sequence/stream", StreamConnection.EVENT_STREAM);
	}

	private static void read(EventStream stream, List<Long> indexes) {
		for (Event event = stream.next(); event != null; event = stream.next()) {
			if ("value".equals(event.name())) {
				long index = json.readTree(event.data()).at("/index").asLong();
				synchronized (indexes) {
					indexes.add(index);
				}
			}
		}
	}

	private static int size(List<Long> indexes) {
		synchronized (indexes) {
			return indexes.size();
		}
	}

	private static double streams(ServiceProcess service) throws IOException {
		return service.subscribers("stream");
	}

	/**
	 * What the kernel holds for a TCP connection, as {@code ss} (iproute2) reports it.
	 */
	private static final class Sockets {

		static boolean available() {
			try {
				Process version = run("-V");
				return version.waitFor(10, TimeUnit.SECONDS) && version.exitValue() == 0;
			}
			catch (IOException ex) {
				return false;
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				return false;
			}
		}

		/**
		 * The bytes in the send queue of a connection's server side.
		 * @param serverPort the local port of the server side
		 * @param clientPort the local port of the client side
		 * @return the bytes queued, or 0 if there is no such connection
		 */
		static long sendQueue(int serverPort, int clientPort) throws IOException, InterruptedException {
			Process ss = run("-tnH", "sport", "=", ":" + serverPort, "and", "dport", "=", ":" + clientPort);
			String output = new String(ss.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
			if (!ss.waitFor(10, TimeUnit.SECONDS)) {
				ss.destroyForcibly();
				throw new IllegalStateException("ss did not answer");
			}
			// State, Recv-Q, Send-Q, local and peer address
			return output.lines()
				.map(String::strip)
				.map((line) -> line.split("\\s+"))
				.filter((columns) -> columns.length >= 5)
				.mapToLong((columns) -> Long.parseLong(columns[2]))
				.max()
				.orElse(0);
		}

		private static Process run(String... arguments) throws IOException {
			List<String> command = new ArrayList<>();
			command.add("ss");
			command.addAll(List.of(arguments));
			return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
		}

	}

}

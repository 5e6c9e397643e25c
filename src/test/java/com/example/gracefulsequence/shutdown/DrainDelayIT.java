package com.example.gracefulsequence.shutdown;

import java.io.IOException;
import java.net.ConnectException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.example.gracefulsequence.EventStream;
import com.example.gracefulsequence.HttpConnection;
import com.example.gracefulsequence.HttpConnection.Response;
import com.example.gracefulsequence.ServiceProcess;
import com.example.gracefulsequence.ShutdownLog;
import com.example.gracefulsequence.StreamConnection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The drain delay on the packaged jar: after SIGTERM readiness is down at once while the
 * API keeps serving with {@code Connection: close}, a new stream is turned away (an
 * {@code EventSource} with a {@code shutdown} event that says when to come back), the
 * port closes only after the delay, and keep-alive clients that follow the announcement
 * never see a failed request.
 *
 * @author graceful-sequence contributors
 */
class DrainDelayIT {

	private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(30);

	private static final int CLIENTS = 4;

	/**
	 * Send SIGTERM and wait for readiness to go down, the first step of the shutdown.
	 * @param service the service
	 * @return when the signal was sent, from {@link System#nanoTime()}
	 */
	private static long sigtermAndAwaitReadinessDown(ServiceProcess service) {
		long signalled = System.nanoTime();
		service.sigterm();
		await("readiness down").atMost(Duration.ofSeconds(2))
			.pollInterval(Duration.ofMillis(20))
			.until(() -> service.status("/readyz") == 503);
		return signalled;
	}

	@Test
	void whenSigtermArrivesWithADrainDelayThenReadinessIsDownWhileTheApiServesWithConnectionCloseUntilThePortCloses(
			@TempDir Path directory) throws Exception {
		try (ServiceProcess service = ServiceProcess.start(directory, "--sequence.period=500ms",
				"--shutdown.drain-delay=3s")) {
			service.awaitReady();
			// The first value comes a period after start
			service.awaitPublished(1, Duration.ofSeconds(10));
			assertThat(service.get("/sequence/last").closesConnection()).isFalse();
			long signalled = sigtermAndAwaitReadinessDown(service);
			Response last = service.get("/sequence/last");
			assertThat(last.status()).isEqualTo(200);
			assertThat(last.header("Connection")).isEqualToIgnoringCase("close");
			assertThat(last.body()).contains("\"source\":\"live\"");
			Response liveness = service.get("/livez");
			assertThat(liveness.status()).as("liveness stays up").isEqualTo(200);
			assertThat(liveness.closesConnection()).isTrue();
			Response stream = service.get("/sequence/stream?count=1");
			assertThat(stream.status()).as("a new stream during shutdown").isEqualTo(503);
			assertThat(stream.header("Content-Type")).startsWith("application/problem+json");
			assertThat(stream.header("Retry-After")).isNotBlank();
			assertThat(stream.closesConnection()).isTrue();
			assertThat(elapsed(signalled)).as("all of the above within the delay").isLessThan(Duration.ofSeconds(3));
			await("port closed").atMost(Duration.ofSeconds(15))
				.pollInterval(Duration.ofMillis(50))
				.until(() -> refusesConnections(service));
			Duration portClosed = elapsed(signalled);
			assertThat(portClosed).as("the port closes after the delay").isGreaterThanOrEqualTo(Duration.ofSeconds(3));
			assertThat(service.awaitExit(EXIT_TIMEOUT)).isEqualTo(143);
			assertThat(elapsed(signalled).minus(portClosed)).as("exit after the port closed")
				.isLessThan(Duration.ofSeconds(5));
			List<String> messages = service.messages();
			assertThat(messages).contains("Serving for another 3000 ms before draining HTTP requests");
			assertThat(ShutdownLog.stepMillis(messages, 4)).isGreaterThanOrEqualTo(3000);
			GracefulShutdownIT.assertCleanShutdown(service, true);
		}
	}

	@Test
	void whenANewStreamComesDuringTheDrainDelayThenAnEventSourceIsToldToComeBackAndAnyOtherClientGets503(
			@TempDir Path directory) throws Exception {
		try (ServiceProcess service = ServiceProcess.start(directory, "--sequence.period=500ms",
				"--shutdown.drain-delay=3s")) {
			service.awaitReady();
			long signalled = sigtermAndAwaitReadinessDown(service);
			try (StreamConnection eventSource = StreamConnection.open(service.port(), "/sequence/stream",
					"Accept: text/event-stream")) {
				assertThat(eventSource.status()).isEqualTo(200);
				assertThat(eventSource.header("Content-Type")).startsWith("text/event-stream");
				EventStream.Event event = eventSource.next();
				assertThat(event).isNotNull();
				assertThat(event.name()).isEqualTo("shutdown");
				assertThat(event.retry()).as("retry").isBetween(3000L, 6000L);
				assertThat(event.data()).isEqualTo("{\"reason\":\"shutting down\"}");
				assertThat(eventSource.next()).as("the end of the response").isNull();
				assertThat(eventSource.isClosedByServer()).as("the connection closed").isTrue();
			}
			try (StreamConnection other = StreamConnection.open(service.port(), "/sequence/stream")) {
				assertThat(other.status()).isEqualTo(503);
				assertThat(other.header("Content-Type")).startsWith("application/problem+json");
				assertThat(other.header("Retry-After")).isNotBlank();
			}
			assertThat(elapsed(signalled)).as("all of the above within the delay").isLessThan(Duration.ofSeconds(3));
			assertThat(service.awaitExit(EXIT_TIMEOUT)).isEqualTo(143);
			GracefulShutdownIT.assertCleanShutdown(service, true);
		}
	}

	@Test
	void whenKeepAliveClientsRunThroughShutdownThenNoRequestFailsOnAConnectionThatWasNotAnnouncedClosing(
			@TempDir Path directory) throws Exception {
		Tally tally = new Tally();
		ScheduledExecutorService clients = Executors.newScheduledThreadPool(CLIENTS);
		List<KeepAliveClient> started = new ArrayList<>();
		try (ServiceProcess service = ServiceProcess.start(directory, "--sequence.period=200ms",
				"--shutdown.drain-delay=2s")) {
			service.awaitReady();
			for (int i = 0; i < CLIENTS; i++) {
				KeepAliveClient client = new KeepAliveClient(service.port(), tally);
				started.add(client);
				clients.scheduleWithFixedDelay(client, 0, 10, TimeUnit.MILLISECONDS);
			}
			await("keep-alive traffic").atMost(Duration.ofSeconds(10))
				.pollInterval(Duration.ofMillis(50))
				.until(() -> tally.reused.get() >= 50);
			tally.shuttingDown = true;
			service.sigterm();
			assertThat(service.awaitExit(EXIT_TIMEOUT)).isEqualTo(143);
			await("clients see the port closed").atMost(Duration.ofSeconds(5))
				.pollInterval(Duration.ofMillis(50))
				.until(() -> tally.refused.get() >= CLIENTS);
			clients.shutdown();
			assertThat(clients.awaitTermination(20, TimeUnit.SECONDS)).isTrue();
			assertThat(tally.serverErrors).as("5xx answers (%s)", tally).isEmpty();
			assertThat(tally.failedOnReused).as("requests failed on a connection not announced closing (%s)", tally)
				.isEmpty();
			assertThat(tally.okWhileShuttingDown.get()).as("requests served during the drain delay (%s)", tally)
				.isPositive();
			assertThat(tally.closeAnnounced.get()).as("responses with Connection: close (%s)", tally).isPositive();
			GracefulShutdownIT.assertCleanShutdown(service, true);
		}
		finally {
			clients.shutdownNow();
			for (KeepAliveClient client : started) {
				client.close();
			}
		}
	}

	private static Duration elapsed(long since) {
		return Duration.ofNanos(System.nanoTime() - since);
	}

	private static boolean refusesConnections(ServiceProcess service) {
		try (HttpConnection connection = HttpConnection.open(service.port())) {
			return false;
		}
		catch (ConnectException ex) {
			return true;
		}
		catch (IOException ex) {
			return false;
		}
	}

	/**
	 * What the keep-alive clients saw.
	 */
	private static final class Tally {

		private final AtomicInteger reused = new AtomicInteger();

		private final AtomicInteger okWhileShuttingDown = new AtomicInteger();

		private final AtomicInteger closeAnnounced = new AtomicInteger();

		private final AtomicInteger refused = new AtomicInteger();

		private final Queue<String> serverErrors = new ConcurrentLinkedQueue<>();

		private final Queue<String> failedOnReused = new ConcurrentLinkedQueue<>();

		// New connections that were reset because the kernel had queued them as Tomcat
		// closed its server socket: like refused ones, expected as the port closes and
		// counted apart
		private final Queue<String> failedOnNew = new ConcurrentLinkedQueue<>();

		private volatile boolean shuttingDown;

		@Override
		public String toString() {
			return "reused=" + this.reused + ", okWhileShuttingDown=" + this.okWhileShuttingDown + ", closeAnnounced="
					+ this.closeAnnounced + ", refused=" + this.refused + ", serverErrors=" + this.serverErrors
					+ ", failedOnReused=" + this.failedOnReused + ", failedOnNew=" + this.failedOnNew;
		}

	}

	/**
	 * A client that keeps its connection until the server announces it closes it, and
	 * sends {@code GET /sequence/last} on it each time it runs.
	 */
	private static final class KeepAliveClient implements Runnable {

		private final int port;

		private final Tally tally;

		private HttpConnection connection;

		KeepAliveClient(int port, Tally tally) {
			this.port = port;
			this.tally = tally;
		}

		@Override
		public void run() {
			boolean reused = this.connection != null;
			if (!reused) {
				try {
					this.connection = HttpConnection.open(this.port);
				}
				catch (ConnectException ex) {
					this.tally.refused.incrementAndGet();
					return;
				}
				catch (IOException ex) {
					this.tally.failedOnNew.add("connect: " + ex);
					return;
				}
			}
			try {
				Response response = this.connection.get("/sequence/last");
				if (reused) {
					this.tally.reused.incrementAndGet();
				}
				if (response.status() >= 500) {
					this.tally.serverErrors.add(response.status() + " " + response.body());
				}
				else if (response.status() == 200 && this.tally.shuttingDown) {
					this.tally.okWhileShuttingDown.incrementAndGet();
				}
				if (response.closesConnection()) {
					this.tally.closeAnnounced.incrementAndGet();
					close();
				}
			}
			catch (IOException ex) {
				String failure = "request " + this.connection.requests() + " on its connection: " + ex;
				((reused) ? this.tally.failedOnReused : this.tally.failedOnNew).add(failure);
				close();
			}
		}

		void close() {
			if (this.connection != null) {
				try {
					this.connection.close();
				}
				catch (IOException ex) {
					// Closing a connection that is gone
				}
				this.connection = null;
			}
		}

	}

}

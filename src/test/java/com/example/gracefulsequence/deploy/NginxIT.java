package com.example.gracefulsequence.deploy;

import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.example.gracefulsequence.EventStream.Event;
import com.example.gracefulsequence.FreePort;
import com.example.gracefulsequence.ServiceProcess;
import com.example.gracefulsequence.StreamConnection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The packaged jar behind real nginx, on a copy of {@code deploy/nginx/nginx.conf} with
 * this run's ports and a short {@code proxy_read_timeout}: events reach a stream client
 * as they are produced, the heartbeat keeps a quiet stream open where nginx would cut it
 * otherwise, the {@code shutdown} event passes through, and one address's attacks (more
 * streams than nginx's bound per address, a request head that trickles in) end at nginx.
 * And nginx in front of nothing: its own answers are problems, and a busy event for a
 * stream, as the service's are.
 *
 * @author graceful-sequence contributors
 */
class NginxIT {

	// The test's proxy_read_timeout: a few of them fit between two values of a slow
	// period
	private static final Duration READ_TIMEOUT = Duration.ofSeconds(2);

	private static final Duration SLOW_PERIOD = Duration.ofSeconds(6);

	private static final int STREAMS_PER_ADDRESS = 4;

	private static final Duration HEADER_TIMEOUT = Duration.ofSeconds(2);

	private static final Pattern INDEX = Pattern.compile("\"index\":(\\d+)");

	@Test
	void eachValueReachesAStreamClientThroughNginxBeforeTheNextIsProduced(@TempDir Path directory) throws Exception {
		try (ServiceProcess service = ServiceProcess.start(workingDirectory(directory), "--sequence.period=1s");
				NginxProcess nginx = nginxInFrontOf(service, directory)) {
			service.awaitReady();
			service.awaitPublished(1, Duration.ofSeconds(30));
			// As a browser's EventSource asks: compressed, if nginx were set to
			try (StreamConnection stream = StreamConnection.open(nginx.port(), "/sequence/stream",
					StreamConnection.EVENT_STREAM, "Accept-Encoding: gzip, deflate, br")) {
				assertThat(stream.status()).isEqualTo(200);
				List<Integer> indexes = new ArrayList<>();
				while (indexes.size() < 4) {
					Event event = stream.next();
					assertThat(event).as("the stream through nginx goes on").isNotNull();
					if ("value".equals(event.name())) {
						int index = index(event);
						assertThat(service.receivedValues())
							.as("values produced when the event of value %d arrived through nginx", index)
							.hasSizeLessThanOrEqualTo(index);
						indexes.add(index);
					}
				}
				assertThat(indexes).as("every value, in order").isSorted().doesNotHaveDuplicates();
			}
		}
	}

	@Test
	void aQuietStreamStaysOneConnectionThroughNginxThanksToTheHeartbeat(@TempDir Path directory) throws Exception {
		String nginxOutput = quietStreamThroughNginx(directory, "500ms", (service, stream, first) -> {
			int commentsBefore = stream.comments();
			Event next = stream.next();
			assertThat(next).as("the next value, %s after the first, on the same connection", SLOW_PERIOD).isNotNull();
			assertThat(next.name()).isEqualTo("value");
			assertThat(index(next)).isEqualTo(index(first) + 1);
			assertThat(stream.comments() - commentsBefore).as("heartbeats between two values")
				.isGreaterThanOrEqualTo((int) (SLOW_PERIOD.toMillis() / READ_TIMEOUT.toMillis()));
		});
		assertThat(nginxOutput).doesNotContain("upstream timed out");
	}

	@Test
	void withoutTheHeartbeatNginxCutsAQuietStreamBeforeTheNextValue(@TempDir Path directory) throws Exception {
		String nginxOutput = quietStreamThroughNginx(directory, "0s", (service, stream, first) -> {
			long quietSince = System.nanoTime();
			assertThat(nextOrEnd(stream)).as("the stream ends, with no event").isEmpty();
			Duration quiet = Duration.ofNanos(System.nanoTime() - quietSince);
			// nginx's silence began when it passed the first event on, a moment before
			// this
			// client read it (longer on a loaded machine): the reason is in nginx's log
			assertThat(quiet).as("cut after proxy_read_timeout (%s) of silence", READ_TIMEOUT)
				.isGreaterThan(READ_TIMEOUT.dividedBy(2))
				.isLessThan(SLOW_PERIOD);
			assertThat(service.receivedValues()).as("values produced when nginx cut the stream").hasSize(index(first));
		});
		assertThat(nginxOutput).contains("upstream timed out");
	}

	/**
	 * Run the service with a period longer than nginx's read timeout and the given
	 * heartbeat, open a stream through nginx, and check it after its first value.
	 * @return what nginx printed
	 */
	private String quietStreamThroughNginx(Path directory, String heartbeat, QuietStreamCheck check) throws Exception {
		try (ServiceProcess service = ServiceProcess.start(workingDirectory(directory),
				"--sequence.period=" + SLOW_PERIOD.toMillis() + "ms", "--sequence.stream.heartbeat=" + heartbeat);
				NginxProcess nginx = nginxInFrontOf(service, directory)) {
			service.awaitReady();
			service.awaitPublished(1, Duration.ofSeconds(30));
			try (StreamConnection stream = StreamConnection.open(nginx.port(), "/sequence/stream",
					StreamConnection.EVENT_STREAM)) {
				assertThat(stream.status()).isEqualTo(200);
				Event first = stream.next();
				assertThat(first).isNotNull();
				assertThat(first.name()).isEqualTo("value");
				check.check(service, stream, first);
			}
			return nginx.output();
		}
	}

	@Test
	void theShutdownEventPassesThroughNginx(@TempDir Path directory) throws Exception {
		try (ServiceProcess service = ServiceProcess.start(workingDirectory(directory), "--sequence.period=500ms");
				NginxProcess nginx = nginxInFrontOf(service, directory)) {
			service.awaitReady();
			try (StreamConnection stream = StreamConnection.open(nginx.port(), "/sequence/stream",
					StreamConnection.EVENT_STREAM)) {
				assertThat(stream.status()).isEqualTo(200);
				Event event = stream.next();
				assertThat(event).isNotNull();
				assertThat(event.name()).isEqualTo("value");
				service.sigterm();
				while ("value".equals(event.name())) {
					event = stream.next();
					assertThat(event).as("the shutdown event before the end of the stream").isNotNull();
				}
				assertThat(event.name()).isEqualTo("shutdown");
				assertThat(event.data()).isEqualTo("{\"reason\":\"shutting down\"}");
				assertThat(event.retry()).as("retry: sent with it").isNotNull().isPositive();
				assertThat(nextOrEnd(stream)).as("nothing after the shutdown event").isEmpty();
			}
			assertThat(service.awaitExit(Duration.ofSeconds(30))).isEqualTo(143);
		}
	}

	@Test
	void streamsOfOneAddressPastNginxsBoundAreTurnedAwayThereWhileAnotherAddressGetsOne(@TempDir Path directory)
			throws Exception {
		try (ServiceProcess service = ProxyDefences.servingBehindAProxy(workingDirectory(directory),
				STREAMS_PER_ADDRESS);
				NginxProcess nginx = nginxInFrontOf(service.port(), directory,
						Map.of("limit_conn graceful_sequence_streams", Integer.toString(STREAMS_PER_ADDRESS)))) {
			ProxyDefences.streamsPastTheBoundOfOneAddressAreTurnedAwayByTheProxy(nginx.port(), service,
					STREAMS_PER_ADDRESS);
		}
	}

	@Test
	void aRequestHeadThatTricklesInIsCutAtNginxsDeadlineForTheWholeHead(@TempDir Path directory) throws Exception {
		try (ServiceProcess service = ServiceProcess.start(workingDirectory(directory),
				ProxyDefences.serviceBehindAProxy(STREAMS_PER_ADDRESS));
				NginxProcess nginx = nginxInFrontOf(service.port(), directory,
						Map.of("client_header_timeout", HEADER_TIMEOUT.toMillis() + "ms"))) {
			service.awaitReady();
			String answer = ProxyDefences.aRequestHeadThatTricklesInIsCutAtTheProxysDeadline(nginx.port(),
					HEADER_TIMEOUT);
			assertThat(answer).as("never answered: nginx closes it").doesNotContain("HTTP/1.1 200");
		}
	}

	@Test
	void whenNoInstanceAnswersNginxAnswersAProblemThatSaysWhenToRetryAndAStreamABusyEvent(@TempDir Path directory)
			throws Exception {
		// Nothing listens where every upstream server is: nginx's connections are refused
		try (NginxProcess nginx = nginxInFrontOf(FreePort.find(), directory, Map.of())) {
			ProxyProblems.aRequestGetsTheProxysOwnProblem(nginx.port(), 502);
			ProxyProblems.aStreamGetsTheProxysOwnBusyEvent(nginx.port());
		}
	}

	private static NginxProcess nginxInFrontOf(ServiceProcess service, Path directory) throws IOException {
		return nginxInFrontOf(service.port(), directory, Map.of());
	}

	private static NginxProcess nginxInFrontOf(int servicePort, Path directory, Map<String, String> settings)
			throws IOException {
		Path prefix = Files.createDirectories(directory.resolve("nginx"));
		int port = FreePort.find();
		Map<String, String> all = new HashMap<>(settings);
		all.put("proxy_read_timeout", READ_TIMEOUT.toSeconds() + "s");
		// Every upstream server is the one instance: no failover in these tests
		String copy = NginxProcess.copy(prefix, port, servicePort, all);
		return NginxProcess.start(NginxProcess.executable(), prefix, copy, port);
	}

	private static Path workingDirectory(Path directory) throws IOException {
		return Files.createDirectories(directory.resolve("service"));
	}

	// The next event, or empty when the stream has ended, cleanly or cut
	private static Optional<Event> nextOrEnd(StreamConnection stream) throws IOException {
		try {
			return Optional.ofNullable(stream.next());
		}
		catch (EOFException ex) {
			return Optional.empty();
		}
	}

	private static int index(Event event) {
		Matcher matcher = INDEX.matcher(event.data());
		assertThat(matcher.find()).as("an index in " + event.data()).isTrue();
		return Integer.parseInt(matcher.group(1));
	}

	/**
	 * What a test checks of a quiet stream after its first value.
	 */
	@FunctionalInterface
	private interface QuietStreamCheck {

		void check(ServiceProcess service, StreamConnection stream, Event first) throws Exception;

	}

}

package com.example.gracefulsequence.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.example.gracefulsequence.FreePort;
import com.example.gracefulsequence.HttpConnection;
import com.example.gracefulsequence.ServiceProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIOException;

/**
 * The packaged jar behind real HAProxy, on a copy of {@code deploy/haproxy/haproxy.cfg}
 * with this run's ports, a small bound on the streams of one address and a short deadline
 * for a request head: one address's attacks end at HAProxy, and the service behind it
 * goes on serving others; past the bound on the connections of one address HAProxy
 * answers a problem, or a busy event, and closes a flood unread. And HAProxy in front of
 * nothing: its own answers are problems, and a busy event for a stream, as the service's
 * are.
 *
 * @author graceful-sequence contributors
 */
class HaproxyIT {

	private static final int STREAMS_PER_ADDRESS = 4;

	private static final int CONNECTIONS_PER_ADDRESS = 4;

	private static final Duration HEADER_TIMEOUT = Duration.ofSeconds(2);

	@Test
	void streamsOfOneAddressPastHaproxysBoundAreTurnedAwayThereWhileAnotherAddressGetsOne(@TempDir Path directory)
			throws Exception {
		try (ServiceProcess service = ProxyDefences.servingBehindAProxy(workingDirectory(directory),
				STREAMS_PER_ADDRESS)) {
			try (HaproxyProcess haproxy = haproxyInFrontOf(service.port(), FreePort.find(), directory, Map.of())) {
				ProxyDefences.streamsPastTheBoundOfOneAddressAreTurnedAwayByTheProxy(haproxy.port(), service,
						STREAMS_PER_ADDRESS);
			}
		}
	}

	@Test
	void connectionsOfOneAddressPastHaproxysBoundGetAProblemOrABusyEventAndAFloodIsClosedUnread(@TempDir Path directory)
			throws Exception {
		try (ServiceProcess service = ProxyDefences.servingBehindAProxy(workingDirectory(directory),
				STREAMS_PER_ADDRESS)) {
			try (HaproxyProcess haproxy = haproxyInFrontOf(service.port(), FreePort.find(), directory, Map.of(),
					Map.of("GRACEFUL_SEQUENCE_CONNECTIONS_PER_SOURCE", Integer.toString(CONNECTIONS_PER_ADDRESS)))) {
				List<HttpConnection> held = new ArrayList<>();
				try {
					for (int i = 0; i < CONNECTIONS_PER_ADDRESS; i++) {
						held.add(HttpConnection.openFrom(ProxyDefences.ATTACKER, haproxy.port()));
						assertThat(held.get(i).get("/sequence/last").status())
							.as("connection %d of %d from one address", i + 1, CONNECTIONS_PER_ADDRESS)
							.isEqualTo(200);
					}
					// Both from 127.0.0.1, the attacker's address
					assertThat(ProxyProblems.aRequestGetsTheProxysOwnProblem(haproxy.port(), 429).detail())
						.contains("GRACEFUL_SEQUENCE_CONNECTIONS_PER_SOURCE");
					assertThat(ProxyProblems.aStreamGetsTheProxysOwnBusyEvent(haproxy.port()).detail())
						.contains("GRACEFUL_SEQUENCE_CONNECTIONS_PER_SOURCE");
					try (HttpConnection other = HttpConnection.openFrom(ProxyDefences.OTHER_CLIENT, haproxy.port())) {
						assertThat(other.get("/sequence/last").status()).as("another address").isEqualTo(200);
					}
					assertThat(held.get(0).get("/sequence/last").status())
						.as("a connection opened within the bound goes on")
						.isEqualTo(200);
					// Idle, HAProxy holds them for their request head, up to four times
					// the bound
					while (held.size() < 4 * CONNECTIONS_PER_ADDRESS - 1) {
						held.add(HttpConnection.openFrom(ProxyDefences.ATTACKER, haproxy.port()));
					}
					// HAProxy resets it at once, as the client connects or when it asks
					assertThatIOException().as("closed before anything is read, with no answer").isThrownBy(() -> {
						try (HttpConnection flood = HttpConnection.openFrom(ProxyDefences.ATTACKER, haproxy.port())) {
							flood.get("/sequence/last");
						}
					});
				}
				finally {
					for (HttpConnection connection : held) {
						connection.close();
					}
				}
			}
		}
	}

	@Test
	void aRequestHeadThatTricklesInIsCutAtHaproxysDeadlineForTheWholeHead(@TempDir Path directory) throws Exception {
		try (ServiceProcess service = ServiceProcess.start(workingDirectory(directory),
				ProxyDefences.serviceBehindAProxy(STREAMS_PER_ADDRESS))) {
			service.awaitReady();
			try (HaproxyProcess haproxy = haproxyInFrontOf(service.port(), FreePort.find(), directory,
					Map.of("timeout http-request", "timeout http-request " + HEADER_TIMEOUT.toMillis() + "ms"))) {
				String answer = ProxyDefences.aRequestHeadThatTricklesInIsCutAtTheProxysDeadline(haproxy.port(),
						HEADER_TIMEOUT);
				assertThat(answer).as("HAProxy's own answer").startsWith("HTTP/1.1 408");
			}
		}
	}

	@Test
	void whenNoInstanceIsUpHaproxyAnswersAProblemThatSaysWhenToRetryAndAStreamABusyEvent(@TempDir Path directory)
			throws Exception {
		// Nothing listens where every server is: HAProxy's checks mark them all DOWN
		int statsPort = FreePort.find();
		try (HaproxyProcess haproxy = haproxyInFrontOf(FreePort.find(), statsPort, directory, Map.of())) {
			HaproxyProcess.awaitNoServerUp(statsPort, Duration.ofSeconds(20));
			ProxyProblems.aRequestGetsTheProxysOwnProblem(haproxy.port(), 503);
			ProxyProblems.aStreamGetsTheProxysOwnBusyEvent(haproxy.port());
		}
	}

	private static HaproxyProcess haproxyInFrontOf(int servicePort, int statsPort, Path directory,
			Map<String, String> lines) throws IOException {
		return haproxyInFrontOf(servicePort, statsPort, directory, lines, Map.of());
	}

	private static HaproxyProcess haproxyInFrontOf(int servicePort, int statsPort, Path directory,
			Map<String, String> lines, Map<String, String> environment) throws IOException {
		Path prefix = Files.createDirectories(directory.resolve("haproxy"));
		int port = FreePort.find();
		String copy = HaproxyProcess.copy(port, statsPort, List.of(servicePort), lines);
		Map<String, String> bounds = new HashMap<>(environment);
		bounds.put("GRACEFUL_SEQUENCE_STREAMS_PER_SOURCE", Integer.toString(STREAMS_PER_ADDRESS));
		return HaproxyProcess.start(HaproxyProcess.executable(), prefix, copy, port, bounds);
	}

	private static Path workingDirectory(Path directory) throws IOException {
		return Files.createDirectories(directory.resolve("service"));
	}

}

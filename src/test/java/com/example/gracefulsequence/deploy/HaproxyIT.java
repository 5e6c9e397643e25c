package com.example.gracefulsequence.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.example.gracefulsequence.FreePort;
import com.example.gracefulsequence.ServiceProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The packaged jar behind real HAProxy, on a copy of {@code deploy/haproxy/haproxy.cfg}
 * with this run's ports, a small bound on the streams of one address and a short deadline
 * for a request head: one address's attacks end at HAProxy, and the service behind it
 * goes on serving others. And HAProxy in front of nothing: its own answers are problems,
 * and a busy event for a stream, as the service's are.
 *
 * @author graceful-sequence contributors
 */
class HaproxyIT {

	private static final int STREAMS_PER_ADDRESS = 4;

	private static final Duration HEADER_TIMEOUT = Duration.ofSeconds(2);

	@Test
	void streamsOfOneAddressPastHaproxysBoundAreTurnedAwayThereWhileAnotherAddressGetsOne(@TempDir Path directory)
			throws Exception {
		try (ServiceProcess service = ServiceProcess.start(workingDirectory(directory),
				ProxyDefences.serviceBehindAProxy(STREAMS_PER_ADDRESS))) {
			service.awaitReady();
			service.awaitReceived(1, Duration.ofSeconds(30));
			try (HaproxyProcess haproxy = haproxyInFrontOf(service.port(), FreePort.find(), directory, Map.of())) {
				ProxyDefences.streamsPastTheBoundOfOneAddressAreTurnedAwayByTheProxy(haproxy.port(), service,
						STREAMS_PER_ADDRESS);
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
		Path prefix = Files.createDirectories(directory.resolve("haproxy"));
		int port = FreePort.find();
		String copy = HaproxyProcess.copy(port, statsPort, List.of(servicePort), lines);
		return HaproxyProcess.start(HaproxyProcess.executable(), prefix, copy, port,
				Map.of("GRACEFUL_SEQUENCE_STREAMS_PER_SOURCE", Integer.toString(STREAMS_PER_ADDRESS)));
	}

	private static Path workingDirectory(Path directory) throws IOException {
		return Files.createDirectories(directory.resolve("service"));
	}

}

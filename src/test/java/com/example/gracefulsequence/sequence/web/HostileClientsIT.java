package com.example.gracefulsequence.sequence.web;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import com.example.gracefulsequence.HttpConnection;
import com.example.gracefulsequence.ServiceProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The packaged jar under clients that hold connections on purpose, sized to fill its
 * connection bound and Tomcat's accept queue: a well-behaved client is still answered
 * within the connection or keep-alive timeout (10 s) and a few seconds, and the service
 * stays up.
 *
 * @author graceful-sequence contributors
 */
class HostileClientsIT {

	private static final int MAX_CONNECTIONS = 200;

	// The connection bound, Tomcat's accept queue (100) and some over
	private static final int ATTACKERS = MAX_CONNECTIONS + 150;

	// The timeout, then the kernel's retries of a dropped connection attempt (1, 3, 7 s
	// after the first), on two shared cores
	private static final Duration ANSWERED_WITHIN = Duration.ofSeconds(40);

	private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(30);

	@Test
	void whenSlowClientsSendHalfARequestAndNothingMoreThenAWellBehavedClientIsStillAnswered(@TempDir Path directory)
			throws Exception {
		underAttack(directory, "GET /sequence/last HTTP/1.1\r\nHost: 127.0.0.1\r\n");
	}

	@Test
	void whenIdleKeptAliveConnectionsFillTheBoundThenAWellBehavedClientIsStillAnswered(@TempDir Path directory)
			throws Exception {
		underAttack(directory, "GET /sequence/last HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
	}

	private static void underAttack(Path directory, String attack) throws Exception {
		try (ServiceProcess service = ServiceProcess.start(directory, "--sequence.period=500ms",
				"--sequence.max-subscribers=100", "--server.tomcat.max-connections=" + MAX_CONNECTIONS)) {
			service.awaitReady();
			service.awaitReceived(1, Duration.ofSeconds(10));
			List<Socket> attackers = new ArrayList<>();
			try {
				for (int i = 0; i < ATTACKERS; i++) {
					Socket socket = attacker(service.port(), attack);
					if (socket != null) {
						attackers.add(socket);
					}
				}
				assertThat(attackers).as("connections the attack holds").hasSizeGreaterThan(MAX_CONNECTIONS);
				long start = System.nanoTime();
				HttpConnection.Response answer = await().atMost(ANSWERED_WITHIN)
					.ignoreExceptions()
					.until(() -> HttpConnection.get(service.port(), "/sequence/last"), (response) -> true);
				Duration waited = Duration.ofNanos(System.nanoTime() - start);
				assertThat(answer.status()).isEqualTo(200);
				assertThat(waited).as("waited for an answer").isLessThan(ANSWERED_WITHIN);
				assertThat(service.isAlive()).isTrue();
			}
			finally {
				for (Socket socket : attackers) {
					socket.close();
				}
			}
			service.sigterm();
			assertThat(service.awaitExit(EXIT_TIMEOUT)).isEqualTo(143);
		}
	}

	private static Socket attacker(int port, String request) {
		Socket socket = new Socket();
		try {
			socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
			socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
			socket.getOutputStream().flush();
			return socket;
		}
		catch (IOException ex) {
			// The accept queue is full: the kernel dropped the attempt
			try {
				socket.close();
			}
			catch (IOException closing) {
				ex.addSuppressed(closing);
			}
			return null;
		}
	}

}

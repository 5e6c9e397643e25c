package com.example.gracefulsequence.deploy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import com.example.gracefulsequence.EventStream.Event;
import com.example.gracefulsequence.ServiceProcess;
import com.example.gracefulsequence.StreamConnection;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The attacks of one client address that a proxy in front of the service must stop
 * itself, played against a running proxy with real sockets: more streams than the proxy's
 * bound per address, and a request head that trickles in.
 *
 * @author graceful-sequence contributors
 */
final class ProxyDefences {

	/**
	 * The attacker's address.
	 */
	static final String ATTACKER = "127.0.0.1";

	/**
	 * Another client's address.
	 */
	static final String OTHER_CLIENT = "127.0.0.2";

	// Far below any gap-between-reads timeout: only a deadline for the whole head stops
	// it
	private static final Duration TRICKLE = Duration.ofMillis(300);

	// Carrying the answer and closing, on 2 shared cores
	private static final Duration MARGIN = Duration.ofSeconds(5);

	private ProxyDefences() {
	}

	/**
	 * The service's arguments as {@code deploy/systemd} runs it next to a proxy: the
	 * proxy's {@code X-Forwarded-For} trusted, and a per-client limit equal to the
	 * proxy's bound, so that another address gets a stream only if the service tells the
	 * clients apart by the forwarded address; room for more streams than that.
	 * @param streamsPerAddress the proxy's bound on the streams of one address
	 * @return the arguments
	 */
	static String[] serviceBehindAProxy(int streamsPerAddress) {
		return new String[] { "--sequence.period=500ms", "--server.forward-headers-strategy=native",
				"--server.tomcat.remoteip.internal-proxies=127[.]0[.]0[.]1",
				"--sequence.max-subscribers=" + (streamsPerAddress * 4),
				"--sequence.max-subscribers-per-client=" + streamsPerAddress };
	}

	/**
	 * Start the service as {@link #serviceBehindAProxy(int)} says and wait until it is
	 * ready with a value to serve.
	 * @param directory the working directory of the service
	 * @param streamsPerAddress the proxy's bound on the streams of one address
	 * @return the running service, which the caller closes
	 * @throws IOException if the service cannot be started
	 */
	static ServiceProcess servingBehindAProxy(Path directory, int streamsPerAddress) throws IOException {
		ServiceProcess service = ServiceProcess.start(directory, serviceBehindAProxy(streamsPerAddress));
		try {
			service.awaitReady();
			service.awaitReceived(1, Duration.ofSeconds(30));
			return service;
		}
		catch (RuntimeException | Error ex) {
			service.close();
			throw ex;
		}
	}

	/**
	 * One address opens as many streams as the proxy's bound allows and then one more:
	 * the proxy answers that one with a busy event of its own while the service holds no
	 * more than the bound, and another address still gets a stream, which the service
	 * counts as that address's, not the proxy's.
	 * @param proxyPort the proxy's port
	 * @param service the service behind it, started with
	 * {@link #serviceBehindAProxy(int)}
	 * @param bound the proxy's bound on the streams of one address
	 * @throws IOException if a connection fails
	 */
	static void streamsPastTheBoundOfOneAddressAreTurnedAwayByTheProxy(int proxyPort, ServiceProcess service, int bound)
			throws IOException {
		List<StreamConnection> streams = new ArrayList<>();
		try {
			for (int i = 0; i < bound; i++) {
				StreamConnection stream = StreamConnection.openFrom(ATTACKER, proxyPort, "/sequence/stream",
						StreamConnection.EVENT_STREAM);
				streams.add(stream);
				assertThat(stream.status()).isEqualTo(200);
				assertThat(firstEvent(stream).name()).as("stream %d of %d from one address", i + 1, bound)
					.isEqualTo("value");
			}
			try (StreamConnection refused = StreamConnection.openFrom(ATTACKER, proxyPort, "/sequence/stream",
					StreamConnection.EVENT_STREAM)) {
				assertThat(refused.status()).as("an EventSource gives up for good on any other status").isEqualTo(200);
				assertThat(refused.header("Content-Type")).startsWith("text/event-stream");
				Event busy = firstEvent(refused);
				assertThat(busy.name()).isEqualTo("busy");
				assertThat(busy.retry()).isNotNull().isPositive();
				assertThat(busy.data()).as("answered by the proxy, not by the service").contains("at the proxy");
			}
			assertThat(service.subscribers("stream")).as("streams the service holds").isEqualTo(bound);
			try (StreamConnection other = StreamConnection.openFrom(OTHER_CLIENT, proxyPort, "/sequence/stream",
					StreamConnection.EVENT_STREAM)) {
				assertThat(other.status()).isEqualTo(200);
				assertThat(firstEvent(other).name()).as("a stream for another address").isEqualTo("value");
			}
		}
		finally {
			for (StreamConnection stream : streams) {
				stream.close();
			}
		}
	}

	/**
	 * A client sends a request line and a header, then one more byte of a header every
	 * {@link #TRICKLE}: the proxy ends it at its deadline for the whole request head.
	 * @param proxyPort the proxy's port
	 * @param headerTimeout the proxy's deadline for a request head
	 * @return what the proxy answered before it closed the connection, if anything
	 * @throws IOException if the connection cannot be made
	 */
	static String aRequestHeadThatTricklesInIsCutAtTheProxysDeadline(int proxyPort, Duration headerTimeout)
			throws IOException {
		ScheduledExecutorService trickle = Executors.newSingleThreadScheduledExecutor();
		try (Socket socket = new Socket()) {
			socket.bind(new InetSocketAddress(InetAddress.getByName(ATTACKER), 0));
			socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), proxyPort), 5000);
			socket.setSoTimeout((int) headerTimeout.plus(MARGIN).multipliedBy(2).toMillis());
			OutputStream out = socket.getOutputStream();
			long start = System.nanoTime();
			out.write("GET /sequence/last HTTP/1.1\r\nHost: x\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
			out.flush();
			trickle.scheduleAtFixedRate(() -> {
				try {
					out.write('a');
					out.flush();
				}
				catch (IOException ex) {
					throw new IllegalStateException("the proxy closed the connection", ex);
				}
			}, TRICKLE.toMillis(), TRICKLE.toMillis(), TimeUnit.MILLISECONDS);
			String answer = readUntilClosed(socket.getInputStream());
			Duration open = Duration.ofNanos(System.nanoTime() - start);
			assertThat(open)
				.as("cut at the proxy's deadline for the whole head (%s), however it trickles", headerTimeout)
				.isGreaterThanOrEqualTo(headerTimeout.minusMillis(200))
				.isLessThan(headerTimeout.plus(MARGIN));
			return answer;
		}
		finally {
			trickle.shutdownNow();
		}
	}

	private static Event firstEvent(StreamConnection stream) throws IOException {
		Event event = stream.next();
		assertThat(event).as("an event").isNotNull();
		return event;
	}

	private static String readUntilClosed(InputStream in) throws IOException {
		StringBuilder answer = new StringBuilder();
		byte[] buffer = new byte[1024];
		try {
			for (int read = in.read(buffer); read >= 0; read = in.read(buffer)) {
				answer.append(new String(buffer, 0, read, StandardCharsets.ISO_8859_1));
			}
		}
		catch (SocketException ex) {
			// A reset is a close too
		}
		return answer.toString();
	}

}

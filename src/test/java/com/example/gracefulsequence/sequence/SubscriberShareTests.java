package com.example.gracefulsequence.sequence;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import com.example.gracefulsequence.EventStream.Event;
import com.example.gracefulsequence.Meters;
import com.example.gracefulsequence.StreamConnection;
import com.example.gracefulsequence.TemporaryStateFile;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Full-application tests of {@code sequence.max-subscribers-per-client} with the
 * service's default of no trusted proxy, Tomcat's forwarded-header support switched on as
 * a cloud platform would: one address at its share is turned away, another is served, and
 * an {@code X-Forwarded-For} from an untrusted peer gains nothing.
 *
 * @author graceful-sequence contributors
 */
@DirtiesContext
@TemporaryStateFile
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "sequence.period=1h", "sequence.stream.heartbeat=100ms", "sequence.max-subscribers-per-client=1",
				"server.forward-headers-strategy=native", "server.tomcat.remoteip.internal-proxies=127\\.0\\.0\\.2",
				TemporaryStateFile.RESTORED + "=42" })
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SubscriberShareTests {

	@LocalServerPort
	private int port;

	@Autowired
	private MeterRegistry meterRegistry;

	@AfterEach
	void awaitClosedStreamsForgotten() {
		// A heartbeat finds a closed connection
		await().atMost(Duration.ofSeconds(10)).until(() -> Meters.subscribers(this.meterRegistry, "stream") == 0);
	}

	@Test
	void aClientAtItsShareIsToldBusyWhileAnotherAddressIsServed() throws Exception {
		try (StreamConnection first = stream("127.0.0.1")) {
			assertThat(first.next()).extracting(Event::name).isEqualTo("value");
			try (StreamConnection second = stream("127.0.0.1")) {
				Event busy = second.next();
				assertThat(busy).isNotNull();
				assertThat(busy.name()).isEqualTo("busy");
				assertThat(busy.data()).contains("sequence.max-subscribers-per-client is 1");
			}
			try (StreamConnection other = stream("127.0.0.3")) {
				assertThat(other.next()).extracting(Event::name).isEqualTo("value");
			}
		}
	}

	@Test
	void aForwardedAddressFromAnUntrustedPeerGainsNothing() throws Exception {
		try (StreamConnection first = stream("127.0.0.1")) {
			assertThat(first.next()).extracting(Event::name).isEqualTo("value");
			try (StreamConnection forged = stream("127.0.0.1", "X-Forwarded-For: 10.9.8.7")) {
				assertThat(forged.next()).extracting(Event::name).isEqualTo("busy");
			}
		}
	}

	@Test
	void theAddressATrustedProxyForwardsIsTheClient() throws Exception {
		try (StreamConnection first = stream("127.0.0.2", "X-Forwarded-For: 10.0.0.1")) {
			assertThat(first.next()).extracting(Event::name).isEqualTo("value");
			try (StreamConnection second = stream("127.0.0.2", "X-Forwarded-For: 10.0.0.2")) {
				assertThat(second.next()).as("another client of the same proxy")
					.extracting(Event::name)
					.isEqualTo("value");
				try (StreamConnection again = stream("127.0.0.2", "X-Forwarded-For: 10.0.0.1")) {
					Event busy = again.next();
					assertThat(busy).isNotNull();
					assertThat(busy.name()).isEqualTo("busy");
					assertThat(busy.data()).contains("sequence.max-subscribers-per-client is 1");
				}
			}
		}
	}

	private StreamConnection stream(String from, String... headers) throws Exception {
		String[] all = new String[headers.length + 1];
		all[0] = StreamConnection.EVENT_STREAM;
		System.arraycopy(headers, 0, all, 1, headers.length);
		StreamConnection connection = StreamConnection.openFrom(from, this.port, "/sequence/stream", all);
		assertThat(connection.status()).isEqualTo(200);
		return connection;
	}

}

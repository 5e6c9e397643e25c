package com.example.gracefulsequence.sequence;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import com.example.gracefulsequence.Meters;
import com.example.gracefulsequence.StreamConnection;
import com.example.gracefulsequence.TemporaryStateFile;
import com.example.gracefulsequence.sequence.EventStream.Event;
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
 * Full-application tests of {@code sequence.max-subscribers-per-client} behind a proxy
 * named as trusted: the address it forwards is the client, so the clients of one proxy
 * each have their share.
 *
 * @author graceful-sequence contributors
 */
@DirtiesContext
@TemporaryStateFile
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "sequence.period=1h", "sequence.stream.heartbeat=100ms", "sequence.max-subscribers-per-client=1",
				"server.forward-headers-strategy=native", "server.tomcat.remoteip.internal-proxies=127\\.0\\.0\\.1",
				TemporaryStateFile.RESTORED + "=42" })
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TrustedProxyShareTests {

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
	void theAddressATrustedProxyForwardsIsTheClient() throws Exception {
		try (StreamConnection first = stream("10.0.0.1")) {
			assertThat(first.next()).extracting(Event::name).isEqualTo("value");
			try (StreamConnection second = stream("10.0.0.2")) {
				assertThat(second.next()).as("another client of the same proxy")
					.extracting(Event::name)
					.isEqualTo("value");
				try (StreamConnection again = stream("10.0.0.1")) {
					Event busy = again.next();
					assertThat(busy).isNotNull();
					assertThat(busy.name()).isEqualTo("busy");
					assertThat(busy.data()).contains("sequence.max-subscribers-per-client is 1");
				}
			}
		}
	}

	private StreamConnection stream(String forwardedFor) throws Exception {
		StreamConnection connection = StreamConnection.open(this.port, "/sequence/stream",
				StreamConnection.EVENT_STREAM, "X-Forwarded-For: " + forwardedFor);
		assertThat(connection.status()).isEqualTo(200);
		return connection;
	}

}

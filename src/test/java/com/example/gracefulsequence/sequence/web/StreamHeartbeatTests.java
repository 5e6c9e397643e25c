package com.example.gracefulsequence.sequence.web;

import java.util.concurrent.TimeUnit;

import com.example.gracefulsequence.EventStream.Event;
import com.example.gracefulsequence.StreamConnection;
import com.example.gracefulsequence.TemporaryStateFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Full-application tests of {@code sequence.stream.heartbeat} over a real connection: a
 * stream that is quiet between values gets comment lines, which an {@code EventSource}
 * ignores, and its values as before.
 *
 * @author graceful-sequence contributors
 */
@DirtiesContext
@TemporaryStateFile
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "sequence.period=1s", "sequence.stream.heartbeat=100ms", TemporaryStateFile.RESTORED + "=42" })
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StreamHeartbeatTests {

	@LocalServerPort
	private int port;

	@Test
	void aStreamQuietForTheHeartbeatGetsCommentLinesBetweenItsValues() throws Exception {
		try (StreamConnection stream = StreamConnection.open(this.port, "/sequence/stream",
				StreamConnection.EVENT_STREAM)) {
			Event restored = stream.next();
			assertThat(restored).isNotNull();
			assertThat(restored.data()).contains("\"value\":42");
			int before = stream.comments();
			Event first = stream.next();
			Event second = stream.next();
			assertThat(first).isNotNull();
			assertThat(second).isNotNull();
			assertThat(first.name()).isEqualTo("value");
			assertThat(second.name()).isEqualTo("value");
			assertThat(Long.parseLong(second.id())).isGreaterThan(Long.parseLong(first.id()));
			// Values a second apart, a heartbeat after 100 to 125 ms of quiet
			assertThat(stream.comments() - before).as("heartbeats between two values").isGreaterThanOrEqualTo(2);
		}
	}

}

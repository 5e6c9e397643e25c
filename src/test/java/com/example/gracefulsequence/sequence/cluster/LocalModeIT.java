package com.example.gracefulsequence.sequence.cluster;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.example.gracefulsequence.ClusterSeries;
import com.example.gracefulsequence.HttpConnection;
import com.example.gracefulsequence.ServiceProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The packaged jar started without the cluster switch, with {@code spring.data.redis.*}
 * pointing at a port that stands in for a Redis nobody should reach, touches no Redis: no
 * connection from start to exit, no Redis client thread, no Redis component in
 * {@code /actuator/health}, no cluster or Lettuce meter, and no warning or error about
 * Redis in its log.
 *
 * @author graceful-sequence contributors
 */
class LocalModeIT {

	private static final Duration PERIOD = Duration.ofMillis(500);

	private static final Pattern REDIS = Pattern.compile("(?i).*(redis|lettuce).*");

	private static final JsonMapper json = JsonMapper.builder().build();

	@TempDir
	Path directory;

	@Test
	void withoutTheClusterSwitchTheServiceOpensNoConnectionToRedisAndShowsNoneOfIt() throws Exception {
		// The kernel completes a connection in the backlog without accept, so the socket
		// holds every connection the service made, even one closed since
		try (ServerSocket redis = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
				ServiceProcess service = ServiceProcess.start(this.directory, "--spring.data.redis.host=127.0.0.1",
						"--spring.data.redis.port=" + redis.getLocalPort(),
						// A client that did reach it would fail within a second, not
						// hang for Lettuce's default minute
						"--spring.data.redis.timeout=1s", "--spring.data.redis.connect-timeout=1s",
						"--sequence.period=" + PERIOD.toMillis() + "ms")) {
			service.awaitReady();
			service.awaitPublished(2, Duration.ofSeconds(10));
			assertThat(service.get("/sequence/last").status()).isEqualTo(200);
			HttpConnection.Response health = service.get("/actuator/health");
			HttpConnection.Response scrape = service.get("/actuator/prometheus");
			assertThat(connectionsTo(redis)).as("connections to Redis while running").isEmpty();
			assertThat(threadNames(service.pid())).as("the service's threads")
				.isNotEmpty()
				.noneMatch((name) -> REDIS.matcher(name).matches());

			JsonNode components = json.readTree(health.body()).at("/components");
			assertThat(components.propertyNames()).as("health components")
				.contains("stateFile")
				.noneMatch((name) -> name.toLowerCase(Locale.ROOT).contains("redis"));
			assertThat(health.status()).as("health").isEqualTo(200);

			assertThat(scrape.status()).isEqualTo(200);
			List<String> meters = scrape.body()
				.lines()
				.map((line) -> line.replaceFirst("^# (HELP|TYPE) ", ""))
				.filter((line) -> !line.startsWith("#"))
				.toList();
			assertThat(meters).as("meters")
				.anyMatch((line) -> line.startsWith("sequence_values"))
				.noneMatch(ClusterSeries::isClusterOnly)
				.noneMatch((line) -> line.startsWith("lettuce_"));

			service.sigterm();
			assertThat(service.awaitExit(Duration.ofSeconds(30))).isEqualTo(143);
			assertThat(connectionsTo(redis)).as("connections to Redis from start to exit").isEmpty();
			assertThat(service.logLines()).as("WARN and ERROR lines")
				.filteredOn((line) -> line.contains(" WARN ") || line.contains(" ERROR "))
				.noneMatch((line) -> REDIS.matcher(line).matches());
		}
	}

	/**
	 * The names of a process's threads as Linux shows them (their first 15 characters),
	 * which the JVM sets from the Java names: a Lettuce client runs its timer on
	 * {@code lettuce-timer-N} from the moment its resources exist.
	 * @param pid the process
	 * @return the names
	 * @throws IOException if {@code /proc} cannot be read
	 */
	private static List<String> threadNames(long pid) throws IOException {
		try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
			List<String> names = new ArrayList<>();
			for (Path task : tasks.toList()) {
				names.add(Files.readString(task.resolve("comm")).strip());
			}
			return names;
		}
	}

	/**
	 * The connections waiting on a socket nobody accepts from, taken off it.
	 * @param socket the socket
	 * @return where each came from
	 * @throws IOException if the socket fails
	 */
	private static List<SocketAddress> connectionsTo(ServerSocket socket) throws IOException {
		List<SocketAddress> connections = new ArrayList<>();
		socket.setSoTimeout(1);
		while (true) {
			try (Socket connection = socket.accept()) {
				connections.add(connection.getRemoteSocketAddress());
			}
			catch (SocketTimeoutException ex) {
				return connections;
			}
		}
	}

}

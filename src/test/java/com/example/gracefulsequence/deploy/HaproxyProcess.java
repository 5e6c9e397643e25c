package com.example.gracefulsequence.deploy;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import com.example.gracefulsequence.HttpConnection;
import org.junit.jupiter.api.Assumptions;

import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

/**
 * HAProxy started in the foreground on a copy of {@code deploy/haproxy/haproxy.cfg} that
 * differs only in its ports, its servers (one per instance a test starts) and the lines a
 * test replaces, with the environment that sets the file's {@code presetenv} variables,
 * so that closing it ends it by handle.
 *
 * @author graceful-sequence contributors
 */
public final class HaproxyProcess extends ExternalProcess {

	/**
	 * The shipped configuration.
	 */
	static final Path CONFIG = Path.of("deploy", "haproxy", "haproxy.cfg");

	private static final String BACKEND = "graceful-sequence";

	private static final List<Path> LOCATIONS = List.of(Path.of("/usr/sbin/haproxy"),
			Path.of("/usr/local/sbin/haproxy"));

	private HaproxyProcess(Process process, int port, Path log) {
		super(process, port, log);
	}

	/**
	 * The HAProxy executable, or else the test is skipped with one line naming the script
	 * that installs it, or fails when the environment variable {@code CI} is set.
	 * @return the executable
	 */
	public static Path executable() {
		Stream<Path> onPath = Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
			.filter((directory) -> !directory.isEmpty())
			.map((directory) -> Path.of(directory, "haproxy"));
		Path haproxy = Stream.concat(onPath, LOCATIONS.stream()).filter(Files::isExecutable).findFirst().orElse(null);
		if (haproxy == null) {
			String missing = "haproxy is not installed, so " + CONFIG
					+ " is not run: run .ci/install-haproxy.sh as root (Debian package haproxy)";
			if (System.getenv("CI") != null) {
				fail(missing + "; CI is set, so this fails instead of being skipped");
			}
			Assumptions.abort(missing);
		}
		return haproxy;
	}

	/**
	 * A copy of the shipped configuration: the frontends bound on loopback on the given
	 * ports, the servers of the backend on the given instances, one each in the file's
	 * order, and some lines replaced. Servers past the last instance are left out, so
	 * that HAProxy sends nothing to a port where no instance listens.
	 * @param port the port of the service's frontend
	 * @param statsPort the port of the stats frontend
	 * @param servicePorts the instances' ports, at most as many as the file has servers
	 * @param lines lines of the file, each given as its first words (such as
	 * {@code timeout http-request}), and the whole line to put in its place; each must be
	 * in the file once
	 * @return the configuration
	 * @throws IOException if the shipped file cannot be read
	 */
	public static String copy(int port, int statsPort, List<Integer> servicePorts, Map<String, String> lines)
			throws IOException {
		StringBuilder copy = new StringBuilder();
		String section = "";
		Map<String, Integer> found = new HashMap<>();
		int servers = 0;
		for (String line : Files.readAllLines(CONFIG)) {
			String stripped = line.strip();
			if (!line.isEmpty() && !Character.isWhitespace(line.charAt(0)) && !stripped.startsWith("#")) {
				section = stripped;
			}
			if (stripped.startsWith("bind ") && section.equals("frontend graceful-sequence")) {
				line = "\tbind 127.0.0.1:" + port;
			}
			else if (stripped.startsWith("bind ") && section.equals("frontend stats")) {
				line = "\tbind 127.0.0.1:" + statsPort;
			}
			else if (stripped.startsWith("server ") && section.equals("backend graceful-sequence")) {
				if (servers == servicePorts.size()) {
					continue;
				}
				line = line.replaceFirst("127\\.0\\.0\\.1:\\d+", "127.0.0.1:" + servicePorts.get(servers++));
			}
			for (Map.Entry<String, String> replacement : lines.entrySet()) {
				if (stripped.startsWith(replacement.getKey() + " ")) {
					line = "\t" + replacement.getValue();
					found.merge(replacement.getKey(), 1, Integer::sum);
				}
			}
			copy.append(line).append('\n');
		}
		if (servers < servicePorts.size()) {
			throw new AssertionError(CONFIG + ": " + servers + " server(s) for " + servicePorts.size() + " instances");
		}
		for (String key : lines.keySet()) {
			if (found.getOrDefault(key, 0) != 1) {
				throw new AssertionError(CONFIG + ": expected one line " + key + ", found " + found.get(key));
			}
		}
		return copy.toString();
	}

	/**
	 * Wait until HAProxy's stats page says that its checks have marked every server of
	 * the backend down.
	 * @param statsPort the port of the stats frontend
	 * @param timeout how long to wait
	 */
	static void awaitNoServerUp(int statsPort, Duration timeout) {
		await("every server of backend " + BACKEND + " DOWN").atMost(timeout)
			.pollInterval(Duration.ofMillis(100))
			.ignoreExceptionsInstanceOf(IOException.class)
			.until(() -> backendStatus(statsPort), "DOWN"::equals);
	}

	// The status column of the backend's own row in the stats page as CSV
	private static String backendStatus(int statsPort) throws IOException {
		String csv = HttpConnection.get(statsPort, "/stats;csv").body();
		List<String> columns = List.of(csv.lines().findFirst().orElse("").replaceFirst("^# ", "").split(","));
		int status = columns.indexOf("status");
		return csv.lines()
			.map((line) -> line.split(","))
			.filter((row) -> row.length > status && row[0].equals(BACKEND) && row[1].equals("BACKEND"))
			.map((row) -> row[status])
			.findFirst()
			.orElse("");
	}

	/**
	 * Start HAProxy in the foreground on a configuration and wait until it accepts
	 * connections on its port.
	 * @param haproxy the executable
	 * @param directory where the configuration and the log are written
	 * @param configuration the configuration
	 * @param port the port of the service's frontend
	 * @param environment variables for the file's {@code presetenv} lines
	 * @return the running HAProxy
	 * @throws IOException if HAProxy cannot be started
	 */
	public static HaproxyProcess start(Path haproxy, Path directory, String configuration, int port,
			Map<String, String> environment) throws IOException {
		Path file = Files.writeString(directory.resolve("haproxy.cfg"), configuration);
		Path log = directory.resolve("haproxy.log");
		ProcessBuilder builder = new ProcessBuilder(
				new ArrayList<>(List.of(haproxy.toString(), "-db", "-f", file.toString())))
			.redirectErrorStream(true)
			.redirectOutput(log.toFile());
		builder.environment().putAll(environment);
		Process process = builder.start();
		HaproxyProcess started = new HaproxyProcess(process, port, log);
		started.awaitAccepting("HAProxy", Duration.ofSeconds(20));
		return started;
	}

}

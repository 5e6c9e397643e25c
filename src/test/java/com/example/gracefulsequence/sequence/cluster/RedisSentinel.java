package com.example.gracefulsequence.sequence.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.example.gracefulsequence.FreePort;
import com.example.gracefulsequence.Programs;
import com.example.gracefulsequence.deploy.SentinelConfig;

import static org.awaitility.Awaitility.await;

/**
 * A real {@code redis-sentinel} for the cluster mode's tests, in the foreground on a free
 * loopback port, with a configuration file of its own in its own directory (Sentinel
 * rewrites it with what it learns: the other Sentinels, the replicas, a new primary) and
 * its log there. Closing it kills it, by handle.
 *
 * @author graceful-sequence contributors
 */
public final class RedisSentinel implements AutoCloseable {

	private static final String INSTALL = ".ci/install-redis.sh";

	private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(30);

	private final Path cli;

	private final int port;

	private final Path log;

	private final Process process;

	private RedisSentinel(Path cli, int port, Path log, Process process) {
		this.cli = cli;
		this.port = port;
		this.log = log;
		this.process = process;
	}

	/**
	 * Start {@code redis-sentinel} on a free port with a configuration, watching a
	 * primary, and wait until it answers {@code PING}; the test is skipped (or fails
	 * where {@code CI} is set) when Sentinel is not installed.
	 * @param directory its directory, created if missing, for its configuration file and
	 * its log; one per Sentinel
	 * @param configuration what it runs with, such as the shipped
	 * {@code deploy/redis/sentinel.conf}: its primary's name, quorum and timings
	 * @param primaryPort the port of the primary on {@link RedisServer#HOST}, which the
	 * Sentinel watches instead of the configuration's address
	 * @return the running Sentinel
	 * @throws IOException if it cannot be started
	 */
	public static RedisSentinel start(Path directory, SentinelConfig configuration, int primaryPort)
			throws IOException {
		String unchecked = "Sentinel's settings are not tested";
		Path sentinel = Programs.require("redis-sentinel", INSTALL, unchecked);
		Path cli = Programs.require("redis-cli", INSTALL, unchecked);
		Path home = Files.createDirectories(directory).toAbsolutePath();
		int port = FreePort.find();
		Path log = home.resolve("sentinel.log");
		// Sentinel rewrites its file as it learns the replicas: a copy of its own, on the
		// loopback interface, in the foreground
		String text = configuration.watching(RedisServer.HOST, primaryPort, port) + "bind " + RedisServer.HOST
				+ "\ndir " + home + "\ndaemonize no\nlogfile " + log + "\n";
		Path file = home.resolve("sentinel.conf");
		Files.writeString(file, text, StandardCharsets.UTF_8);
		Process process = new ProcessBuilder(sentinel.toString(), file.toString()).directory(home.toFile())
			.redirectErrorStream(true)
			.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
			.start();
		RedisSentinel started = new RedisSentinel(cli, port, log, process);
		try {
			await("redis-sentinel on port " + port + " answering PING").atMost(STARTUP_TIMEOUT)
				.pollInterval(Duration.ofMillis(50))
				.failFast("redis-sentinel exited", () -> {
					if (!process.isAlive()) {
						throw new AssertionError(
								"redis-sentinel exited with " + process.exitValue() + ":\n" + started.logTail());
					}
				})
				.until(() -> RedisServer.ping(port, Duration.ofSeconds(1)));
		}
		catch (RuntimeException | Error ex) {
			started.close();
			throw ex;
		}
		return started;
	}

	/**
	 * The port it listens on, on {@link RedisServer#HOST}.
	 * @return the port
	 */
	int port() {
		return this.port;
	}

	/**
	 * Run a command with {@code redis-cli}, as {@link RedisServer#cli(String...)} does.
	 * @param arguments the command and its arguments, such as {@code SENTINEL},
	 * {@code get-master-addr-by-name}, the name
	 * @return the reply, trimmed
	 */
	String cli(String... arguments) {
		return RedisServer.cli(this.cli, this.port, arguments);
	}

	/**
	 * The primary this Sentinel names to clients.
	 * @param name the name of the primary
	 * @return its port on {@link RedisServer#HOST}, or -1 if it names none
	 */
	int primaryPort(String name) {
		List<String> address = cli("SENTINEL", "get-master-addr-by-name", name).lines().toList();
		return (address.size() == 2) ? Integer.parseInt(address.get(1)) : -1;
	}

	/**
	 * What this Sentinel knows of the primary, as {@code SENTINEL master}: {@code flags}
	 * ({@code master}, or with {@code s_down}, {@code o_down},
	 * {@code failover_in_progress}), {@code num-slaves}, {@code num-other-sentinels}.
	 * @param name the name of the primary
	 * @return each field by its name
	 */
	public Map<String, String> primary(String name) {
		List<String> lines = cli("SENTINEL", "master", name).lines().toList();
		Map<String, String> fields = new HashMap<>();
		for (int i = 0; i + 1 < lines.size(); i += 2) {
			fields.put(lines.get(i), lines.get(i + 1));
		}
		return fields;
	}

	/**
	 * The last lines of its log, for failure messages.
	 * @return the last 40 lines
	 */
	String logTail() {
		try {
			List<String> lines = Files.readAllLines(this.log, StandardCharsets.UTF_8);
			return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
		}
		catch (IOException ex) {
			return "(no log: " + ex.getMessage() + ")";
		}
	}

	/**
	 * Its log file, with every event of Sentinel ({@code +sdown}, {@code +odown},
	 * {@code +vote-for-leader}, {@code +switch-master}, {@code +convert-to-slave}, ...).
	 * @return the log file
	 */
	Path log() {
		return this.log;
	}

	/**
	 * SIGKILL if it is still running, and wait a while for it to go.
	 */
	@Override
	public void close() {
		Programs.kill(this.process);
	}

}

package com.example.gracefulsequence.sequence.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import com.example.gracefulsequence.FreePort;
import com.example.gracefulsequence.Programs;

import static org.awaitility.Awaitility.await;

/**
 * A real {@code redis-server} for the cluster mode's tests, run in the foreground on a
 * free loopback port in a directory of its own (a test's temporary directory), with its
 * data and its log there: an append-only file synced every second, no snapshots, no
 * eviction, as the cluster mode expects of its Redis; as a primary, it syncs a new
 * replica at once. It can be stopped, killed, paused and started again on the same port
 * and data, and closing it always kills what it started, by handle.
 * <p>
 * Configured by command-line arguments only; more of them, such as {@code --replicaof},
 * come after the defaults and win.
 *
 * @author graceful-sequence contributors
 */
public final class RedisServer implements AutoCloseable {

	/**
	 * The loopback address it listens on, and the host for clients.
	 */
	public static final String HOST = "127.0.0.1";

	private static final String INSTALL = ".ci/install-redis.sh";

	// Loading an append-only file or a replica's first sync may take a while on a busy
	// two-core machine
	private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(30);

	private static final Duration STOP_TIMEOUT = Duration.ofSeconds(20);

	private static final Duration CLI_TIMEOUT = Duration.ofSeconds(10);

	private static final Duration PING_TIMEOUT = Duration.ofSeconds(1);

	private final Path server;

	private final Path cli;

	private final int port;

	private final Path directory;

	private final Path log;

	private List<String> extraArguments;

	private Process process;

	private boolean paused;

	private RedisServer(Path server, Path cli, int port, Path directory, List<String> extraArguments) {
		this.server = server;
		this.cli = cli;
		this.port = port;
		this.directory = directory.toAbsolutePath();
		this.log = this.directory.resolve("redis.log");
		this.extraArguments = extraArguments;
	}

	/**
	 * Start {@code redis-server} on a free port and wait until it answers {@code PING};
	 * the test is skipped (or fails where {@code CI} is set) when Redis is not installed.
	 * @param directory its directory, created if missing, for its data and its log; one
	 * per server
	 * @param extraArguments more arguments, after the defaults, such as
	 * {@code --replicaof 127.0.0.1 6379}
	 * @return the running server
	 * @throws IOException if it cannot be started
	 */
	public static RedisServer start(Path directory, String... extraArguments) throws IOException {
		Path server = Programs.require("redis-server", INSTALL, "the cluster mode is not tested against Redis");
		Path cli = Programs.require("redis-cli", INSTALL, "the cluster mode is not tested against Redis");
		Files.createDirectories(directory);
		RedisServer redis = new RedisServer(server, cli, FreePort.find(), directory, List.of(extraArguments));
		redis.launch();
		return redis;
	}

	private void launch() throws IOException {
		List<String> command = new ArrayList<>(List.of(this.server.toString(), "--port", Integer.toString(this.port),
				"--bind", HOST, "--dir", this.directory.toString(), "--appendonly", "yes", "--appendfsync", "everysec",
				"--save", "", "--maxmemory-policy", "noeviction", "--hz", "100", "--protected-mode", "no",
				"--daemonize", "no", "--logfile", this.log.toString(),
				// A replica's first sync starts at once, not after Redis' five seconds of
				// waiting for more replicas to share it
				"--repl-diskless-sync-delay", "0"));
		command.addAll(this.extraArguments);
		// What Redis says before its log is open (a bad argument) lands in the same file
		this.process = new ProcessBuilder(command).directory(this.directory.toFile())
			.redirectErrorStream(true)
			.redirectOutput(ProcessBuilder.Redirect.appendTo(this.log.toFile()))
			.start();
		try {
			await("redis-server on port " + this.port + " answering PING").atMost(STARTUP_TIMEOUT)
				.pollInterval(Duration.ofMillis(50))
				.failFast("redis-server exited", () -> {
					if (!this.process.isAlive()) {
						throw new AssertionError(
								"redis-server exited with " + this.process.exitValue() + ":\n" + logTail());
					}
				})
				.until(() -> ping(PING_TIMEOUT));
		}
		catch (RuntimeException | Error ex) {
			close();
			throw ex;
		}
	}

	/**
	 * The port it listens on, on {@link #HOST}.
	 * @return the port
	 */
	public int port() {
		return this.port;
	}

	/**
	 * Its URL, for {@code spring.data.redis.url}.
	 * @return {@code redis://127.0.0.1:port}
	 */
	public String url() {
		return "redis://" + HOST + ":" + this.port;
	}

	/**
	 * The process id of the running server; a restart changes it.
	 * @return the pid
	 */
	public long pid() {
		return this.process.pid();
	}

	/**
	 * Its directory, with its data ({@code appendonlydir}) and its log
	 * ({@code redis.log}).
	 * @return the directory
	 */
	public Path directory() {
		return this.directory;
	}

	/**
	 * Whether the server process is running (or paused).
	 * @return {@code true} if it has not exited
	 */
	public boolean isAlive() {
		return this.process.isAlive();
	}

	/**
	 * Whether it answers {@code PING} with {@code PONG} within a timeout, on a new
	 * connection; a paused server accepts the connection (the kernel does) but does not
	 * answer, and a server still loading its data answers with an error.
	 * @param timeout how long to wait for the connection and for the answer
	 * @return {@code true} if it answered {@code PONG}
	 */
	public boolean ping(Duration timeout) {
		return ping(this.port, timeout);
	}

	/**
	 * Whether a server on loopback, such as a {@code redis-sentinel}, answers
	 * {@code PING} with {@code PONG} within a timeout, on a new connection.
	 * @param port its port on {@link #HOST}
	 * @param timeout how long to wait for the connection and for the answer
	 * @return {@code true} if it answered {@code PONG}
	 */
	static boolean ping(int port, Duration timeout) {
		try (Socket socket = new Socket()) {
			int millis = Math.toIntExact(Math.max(1, timeout.toMillis()));
			socket.connect(new InetSocketAddress(HOST, port), millis);
			socket.setSoTimeout(millis);
			OutputStream out = socket.getOutputStream();
			out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
			out.flush();
			byte[] expected = "+PONG\r\n".getBytes(StandardCharsets.US_ASCII);
			InputStream in = socket.getInputStream();
			for (byte b : expected) {
				if (in.read() != b) {
					return false;
				}
			}
			return true;
		}
		catch (IOException ex) {
			return false;
		}
	}

	/**
	 * Run a command with {@code redis-cli} and return its reply as plain text (as
	 * {@code redis-cli} prints it when its output is not a terminal: a nil as an empty
	 * string, an integer as its digits, an error as its text, such as
	 * {@code ERR unknown command}).
	 * @param arguments the command and its arguments, such as {@code GET}, {@code key}
	 * @return the reply, trimmed
	 * @throws AssertionError if {@code redis-cli} fails (it cannot connect) or takes more
	 * than ten seconds (the server is paused)
	 */
	public String cli(String... arguments) {
		return cli(this.cli, this.port, arguments);
	}

	/**
	 * Run a command with {@code redis-cli} against a server on loopback, such as a
	 * {@code redis-sentinel}, as {@link #cli(String...)} does.
	 * @param cli the {@code redis-cli} executable
	 * @param port the server's port on {@link #HOST}
	 * @param arguments the command and its arguments
	 * @return the reply, trimmed
	 */
	static String cli(Path cli, int port, String... arguments) {
		List<String> command = new ArrayList<>(List.of(cli.toString(), "-h", HOST, "-p", Integer.toString(port)));
		command.addAll(List.of(arguments));
		try {
			Programs.Result result = Programs.run(CLI_TIMEOUT, command.toArray(String[]::new));
			if (result.exitValue() != 0) {
				throw new AssertionError(String.join(" ", command) + " exited with " + result.exitValue() + ": "
						+ result.output().strip());
			}
			return result.output().strip();
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new AssertionError("Interrupted while running " + String.join(" ", command), ex);
		}
	}

	/**
	 * Close every client's connection, as a network cut seen by Redis would, but the
	 * connections of replicas and of this call itself.
	 * @return how many were closed
	 */
	public int killClients() {
		// A client in subscriber mode over RESP2 is of type pubsub, not normal
		return Integer.parseInt(cli("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"))
				+ Integer.parseInt(cli("CLIENT", "KILL", "TYPE", "pubsub", "SKIPME", "yes"));
	}

	/**
	 * The names ({@code CLIENT SETNAME}) of the clients connected now, one per
	 * connection, an empty string for a connection without one; not replicas, nor the
	 * connection that asks.
	 * @return the names
	 */
	public List<String> clientNames() {
		List<String> names = new ArrayList<>();
		for (String line : cli("CLIENT", "LIST").lines().toList()) {
			String flags = field(line, "flags");
			if (!field(line, "cmd").equals("client|list") && !flags.contains("S") && !flags.contains("M")) {
				names.add(field(line, "name"));
			}
		}
		return names;
	}

	/**
	 * How many clients are connected now; not replicas, nor the connection that asks.
	 * @return the number of connections
	 */
	public int connectedClients() {
		return clientNames().size();
	}

	private static String field(String line, String name) {
		for (String field : line.split(" ")) {
			if (field.startsWith(name + "=")) {
				return field.substring(name.length() + 1);
			}
		}
		return "";
	}

	/**
	 * SIGTERM, and wait until it has exited: Redis syncs its append-only file and exits,
	 * as on a clean shutdown. A paused server is resumed first, or it could not act on
	 * the signal.
	 */
	public void stop() {
		if (this.process.isAlive()) {
			resume();
			this.process.destroy();
			awaitExit();
		}
	}

	/**
	 * SIGKILL, and wait until it has exited: a crash of Redis, which loses nothing that
	 * it handed to the kernel (every write, but on a disk that stalls a flush).
	 */
	public void kill() {
		this.process.destroyForcibly();
		awaitExit();
		this.paused = false;
	}

	/**
	 * SIGSTOP by its pid: the process stays, its connections stay open, and it answers
	 * nothing until {@link #resume()}, as a server that hangs or a network that drops
	 * packets.
	 */
	public void pause() {
		signal("STOP");
		this.paused = true;
	}

	/**
	 * SIGCONT by its pid: a paused server goes on where it was.
	 */
	public void resume() {
		if (this.paused) {
			signal("CONT");
			this.paused = false;
		}
	}

	/**
	 * Stop it if it is running (SIGTERM), then start it again on the same port, with the
	 * same arguments and data (the append-only file), and wait until it answers
	 * {@code PING}. After {@link #kill()}, it is a restart after a crash.
	 * @throws IOException if it cannot be started
	 */
	public void restart() throws IOException {
		stop();
		launch();
	}

	/**
	 * Stop it if it is running (SIGTERM), then start it again on the same port, in the
	 * same directory and with its data, as a replica of another server: how a primary
	 * that crashed comes back once a replica was promoted in its place. It loads its
	 * append-only file, then takes the primary's data in a full sync.
	 * @param primaryPort the port of the primary to follow, on {@link #HOST}
	 * @throws IOException if it cannot be started
	 */
	public void restartAsReplicaOf(int primaryPort) throws IOException {
		stop();
		List<String> arguments = new ArrayList<>();
		int i = 0;
		while (i < this.extraArguments.size()) {
			// Another --replicaof goes, with its host and port
			boolean replicaOf = this.extraArguments.get(i).equals("--replicaof");
			if (!replicaOf) {
				arguments.add(this.extraArguments.get(i));
			}
			i += replicaOf ? 3 : 1;
		}
		arguments.addAll(List.of("--replicaof", HOST, Integer.toString(primaryPort)));
		this.extraArguments = List.copyOf(arguments);
		launch();
	}

	/**
	 * What it says of its replication now, as {@code INFO replication}: {@code role}
	 * ({@code master} or {@code slave}), on a primary {@code connected_slaves} and a
	 * {@code slaveN} line per replica ({@code ip=...,port=...,state=online,...}), on a
	 * replica {@code master_port} and {@code master_link_status}.
	 * @return each field by its name
	 */
	public Map<String, String> replication() {
		Map<String, String> fields = new HashMap<>();
		for (String line : cli("INFO", "replication").lines().toList()) {
			int colon = line.indexOf(':');
			if (colon > 0 && !line.startsWith("#")) {
				fields.put(line.substring(0, colon), line.substring(colon + 1).strip());
			}
		}
		return fields;
	}

	/**
	 * Whether it was paused ({@link #pause()}) and not resumed since.
	 * @return whether it stands still
	 */
	public boolean isPaused() {
		return this.paused;
	}

	/**
	 * Stop it if it is running (SIGTERM), delete its data (the append-only files, a
	 * snapshot and the temporary files of a rewrite or a sync), start it again on the
	 * same port and wait until it answers {@code PING}: a Redis that lost its data. The
	 * log and whatever else the directory holds are kept.
	 * @throws IOException if the data cannot be deleted or it cannot be started
	 */
	public void restartEmpty() throws IOException {
		stop();
		try (Stream<Path> files = Files.list(this.directory)) {
			for (Path file : files.filter(RedisServer::isData).toList()) {
				delete(file);
			}
		}
		launch();
	}

	private static boolean isData(Path file) {
		String name = file.getFileName().toString();
		return name.equals("appendonlydir") || name.equals("dump.rdb") || name.startsWith("temp-");
	}

	private static void delete(Path path) throws IOException {
		try (Stream<Path> tree = Files.walk(path)) {
			for (Path file : tree.sorted(Comparator.reverseOrder()).toList()) {
				Files.delete(file);
			}
		}
	}

	/**
	 * The last lines of its log, for failure messages.
	 * @return the last 40 lines
	 */
	public String logTail() {
		try {
			List<String> lines = Files.readAllLines(this.log, StandardCharsets.UTF_8);
			return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
		}
		catch (IOException ex) {
			return "(no log: " + ex.getMessage() + ")";
		}
	}

	private void signal(String name) {
		if (!this.process.isAlive()) {
			throw new AssertionError("redis-server " + pid() + " has exited, so it cannot be sent SIG" + name);
		}
		try {
			Programs.Result result = Programs.run(CLI_TIMEOUT, "kill", "-" + name, Long.toString(pid()));
			if (result.exitValue() != 0) {
				throw new AssertionError("Could not send SIG" + name + " to " + pid() + ": " + result.output());
			}
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not send SIG" + name + " to " + pid(), ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new AssertionError("Interrupted while sending SIG" + name + " to " + pid(), ex);
		}
	}

	private void awaitExit() {
		try {
			if (!this.process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
				throw new AssertionError(
						"redis-server " + pid() + " did not exit within " + STOP_TIMEOUT + ":\n" + logTail());
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new AssertionError("Interrupted while waiting for redis-server " + pid() + " to exit", ex);
		}
	}

	/**
	 * SIGKILL if it is still running, and wait a while for it to go.
	 */
	@Override
	public void close() {
		Programs.kill(this.process);
	}

}

package com.example.gracefulsequence;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import tools.jackson.databind.json.JsonMapper;

import static org.awaitility.Awaitility.await;

/**
 * The service started from the packaged jar ({@code java -jar}, path in the
 * {@code graceful-sequence.jar} system property) as a separate process on a free port in
 * a given working directory, with its output in a log file there. It can be sent real
 * signals, and closing it always kills what it started.
 * <p>
 * Every launch's log is also copied to {@code target/it-logs} when it is closed, so that
 * a failed run can be read after the temporary directory is gone.
 *
 * @author graceful-sequence contributors
 */
public final class ServiceProcess implements AutoCloseable {

	/**
	 * How long a start may take on a busy two-core machine.
	 */
	public static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(90);

	/**
	 * The name of the state file in the working directory by default.
	 */
	public static final String STATE_FILE = "last-num-from-seq.txt";

	private static final Pattern RECEIVED = Pattern.compile("Received: (\\d+)");

	// Start quickly: the tests measure the service's behaviour, not the JIT's peak
	private static final List<String> JVM_OPTIONS = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
			"-Xshare:auto", "-Xss512k", "-Xmx256m");

	private static final AtomicInteger launches = new AtomicInteger();

	private static final JsonMapper json = JsonMapper.builder().build();

	private final Process process;

	private final int port;

	private final Path directory;

	private final Path log;

	private final HttpClient httpClient;

	private ServiceProcess(Process process, int port, Path directory, Path log) {
		this.process = process;
		this.port = port;
		this.directory = directory;
		this.log = log;
		this.httpClient = HttpClient.newBuilder()
			.version(HttpClient.Version.HTTP_1_1)
			.connectTimeout(Duration.ofSeconds(2))
			.build();
	}

	/**
	 * Start the service in the given working directory on a free port.
	 * @param directory the working directory, where the state file lands by default
	 * @param arguments more command-line arguments, such as {@code --sequence.period=1s}
	 * @return the running process
	 * @throws IOException if the process cannot be started
	 */
	public static ServiceProcess start(Path directory, String... arguments) throws IOException {
		return start(directory, FreePort.find(), arguments);
	}

	/**
	 * Start the service in the given working directory on a given port, such as the port
	 * of an instance that has just stopped, as a restart does.
	 * @param directory the working directory, where the state file lands by default
	 * @param port the port to listen on, on loopback
	 * @param arguments more command-line arguments, such as {@code --sequence.period=1s}
	 * @return the running process
	 * @throws IOException if the process cannot be started
	 */
	public static ServiceProcess start(Path directory, int port, String... arguments) throws IOException {
		return launch(directory, port, List.of(), arguments);
	}

	/**
	 * Start the service in the given working directory on a free port, with more JVM
	 * options after the defaults, so that a later one wins (such as {@code -Xmx128m}).
	 * @param directory the working directory, where the state file lands by default
	 * @param jvmOptions the JVM options to add
	 * @param arguments more command-line arguments, such as {@code --sequence.period=1s}
	 * @return the running process
	 * @throws IOException if the process cannot be started
	 */
	public static ServiceProcess startWithJvmOptions(Path directory, List<String> jvmOptions, String... arguments)
			throws IOException {
		return launch(directory, FreePort.find(), jvmOptions, arguments);
	}

	private static ServiceProcess launch(Path directory, int port, List<String> jvmOptions, String... arguments)
			throws IOException {
		int launch = launches.incrementAndGet();
		Path log = directory.resolve("service-" + launch + ".log");
		List<String> command = new ArrayList<>();
		command.add(javaExecutable());
		command.addAll(JVM_OPTIONS);
		command.addAll(jvmOptions);
		command.add("-jar");
		command.add(jar().toString());
		command.add("--server.port=" + port);
		command.add("--server.address=127.0.0.1");
		command.addAll(List.of(arguments));
		Process process = new ProcessBuilder(command).directory(directory.toFile())
			.redirectErrorStream(true)
			.redirectOutput(log.toFile())
			.start();
		return new ServiceProcess(process, port, directory, log);
	}

	private static Path jar() {
		String jar = System.getProperty("graceful-sequence.jar");
		if (jar == null || !Files.isRegularFile(Path.of(jar))) {
			throw new IllegalStateException(
					"System property 'graceful-sequence.jar' must name the packaged jar, but was '" + jar
							+ "'; run the *IT tests with failsafe ('./mvnw verify')");
		}
		return Path.of(jar).toAbsolutePath();
	}

	private static String javaExecutable() {
		String home = System.getProperty("graceful-sequence.java-home", System.getProperty("java.home"));
		return Path.of(home, "bin", "java").toString();
	}

	/**
	 * The process id.
	 * @return the pid
	 */
	public long pid() {
		return this.process.pid();
	}

	/**
	 * The HTTP port the service listens on.
	 * @return the port
	 */
	public int port() {
		return this.port;
	}

	/**
	 * The working directory.
	 * @return the directory
	 */
	public Path directory() {
		return this.directory;
	}

	/**
	 * The default state file in the working directory, as the service resolves it.
	 * @return the absolute path of the state file
	 */
	public Path stateFile() {
		try {
			return this.directory.toRealPath().resolve(STATE_FILE);
		}
		catch (IOException ex) {
			throw new IllegalStateException(ex);
		}
	}

	/**
	 * A URI on this service.
	 * @param path the path and query
	 * @return the URI
	 */
	public URI uri(String path) {
		return URI.create("http://127.0.0.1:" + this.port + path);
	}

	/**
	 * An HTTP/1.1 client for requests to this service.
	 * @return the client
	 */
	public HttpClient httpClient() {
		return this.httpClient;
	}

	/**
	 * Send a {@code GET} on a new connection.
	 * @param path the path and query
	 * @return the response
	 * @throws IOException if the exchange fails
	 */
	public HttpConnection.Response get(String path) throws IOException {
		return HttpConnection.get(this.port, path);
	}

	/**
	 * How many subscribers of a kind the service holds now, as its metrics endpoint shows
	 * the gauge {@code sequence.subscribers}.
	 * @param kind {@code stream} for open streams, {@code poll} for waiting long-polls
	 * @return the number of subscribers
	 * @throws IOException if the exchange fails
	 */
	public double subscribers(String kind) throws IOException {
		return meter("sequence.subscribers?tag=kind:" + kind);
	}

	/**
	 * The value of one of the service's meters, as its metrics endpoint shows it: a
	 * gauge's value, or a counter's count.
	 * @param name the meter, with a tag query if needed, such as
	 * {@code sequence.cluster.redis.failovers}
	 * @return its value
	 * @throws IOException if the exchange fails
	 */
	public double meter(String name) throws IOException {
		String body = get("/actuator/metrics/" + name).body();
		return json.readTree(body).at("/measurements/0/value").asDouble();
	}

	/**
	 * The status of a {@code GET} on a new connection.
	 * @param path the path and query
	 * @return the status, or {@code -1} if the exchange failed
	 */
	public int status(String path) {
		try {
			return get(path).status();
		}
		catch (IOException ex) {
			return -1;
		}
	}

	/**
	 * Wait until {@code /readyz} answers 200.
	 * @param timeout how long to wait at most
	 * @return this process
	 */
	public ServiceProcess awaitReady(Duration timeout) {
		awaitWhileRunning("service on port " + this.port + " ready", timeout, Duration.ofMillis(100),
				() -> status("/readyz") == 200);
		return this;
	}

	/**
	 * Wait until the service is ready, bounded by {@link #STARTUP_TIMEOUT}.
	 * @return this process
	 */
	public ServiceProcess awaitReady() {
		return awaitReady(STARTUP_TIMEOUT);
	}

	/**
	 * Every complete line the process printed so far; a line still being written (or cut
	 * by a kill) is not a line yet.
	 * @return the lines
	 */
	public List<String> logLines() {
		try {
			String output = new String(Files.readAllBytes(this.log), StandardCharsets.UTF_8);
			return output.substring(0, output.lastIndexOf('\n') + 1).lines().toList();
		}
		catch (IOException ex) {
			throw new IllegalStateException("Cannot read " + this.log, ex);
		}
	}

	/**
	 * The log messages so far: each line without the timestamp, level, thread and logger,
	 * and lines that are not log events (such as a failure report) as they are.
	 * @return the messages
	 */
	public List<String> messages() {
		return logLines().stream().map(ServiceProcess::message).toList();
	}

	/**
	 * The message part of a log line, in Spring Boot's format ({@code logger : message})
	 * or, before Spring Boot has set up logging, Logback's ({@code logger -- message}).
	 * @param line a line of output
	 * @return the message, or the line if it is not a log event
	 */
	public static String message(String line) {
		int separator = line.indexOf(" : ");
		if (separator < 0) {
			separator = line.indexOf(" -- ");
			return (separator >= 0) ? line.substring(separator + 4) : line;
		}
		return line.substring(separator + 3);
	}

	/**
	 * Wait until a log message matches.
	 * @param description what is awaited, for the failure message
	 * @param condition the condition on a message
	 * @param timeout how long to wait at most
	 */
	public void awaitMessage(String description, Predicate<String> condition, Duration timeout) {
		awaitWhileRunning(description, timeout, Duration.ofMillis(20), () -> messages().stream().anyMatch(condition));
	}

	/**
	 * The values the producer logged as {@code Received: N}, in order.
	 * @return the values
	 */
	public List<Integer> receivedValues() {
		List<Integer> values = new ArrayList<>();
		for (String message : messages()) {
			Matcher matcher = RECEIVED.matcher(message);
			if (matcher.matches()) {
				values.add(Integer.valueOf(matcher.group(1)));
			}
		}
		return values;
	}

	/**
	 * Wait until the producer has logged at least the given number of values; a request
	 * sent then may not see the last of them yet ({@link #awaitPublished}).
	 * @param count the number of values
	 * @param timeout how long to wait at most
	 */
	public void awaitReceived(int count, Duration timeout) {
		awaitWhileRunning(count + " value(s) received", timeout, Duration.ofMillis(20),
				() -> receivedValues().size() >= count);
	}

	/**
	 * Wait until the producer has logged at least the given number of values and
	 * {@code /sequence/last} serves the last of them. The producer logs a value before it
	 * forces it to disk and publishes it, so a request sent as the line appears may not
	 * see it yet (on a slow disk, for tens of milliseconds).
	 * @param count the number of values, counted from the start of this process
	 * @param timeout how long to wait at most, for each of the two
	 */
	public void awaitPublished(int count, Duration timeout) {
		awaitReceived(count, timeout);
		awaitWhileRunning("value " + count + " published", timeout, Duration.ofMillis(20),
				() -> json.readTree(get("/sequence/last").body()).at("/index").asInt() >= count);
	}

	/**
	 * Wait until a condition holds, and fail at once, with the last lines the service
	 * printed, if it has exited and the condition does not hold.
	 * @param description what is awaited, for the failure message
	 * @param timeout how long to wait at most
	 * @param pollInterval how often to check
	 * @param condition the condition
	 */
	private void awaitWhileRunning(String description, Duration timeout, Duration pollInterval,
			Callable<Boolean> condition) {
		await(description).atMost(timeout).pollInterval(pollInterval).failFast("The service exited", () -> {
			if (!this.process.isAlive() && !holds(condition)) {
				throw new AssertionError("The service exited:\n" + this.logTail());
			}
		}).until(condition);
	}

	private static boolean holds(Callable<Boolean> condition) {
		try {
			return condition.call();
		}
		catch (Exception ex) {
			return false;
		}
	}

	/**
	 * The last lines of output, for failure messages.
	 * @return the last 40 lines
	 */
	public String logTail() {
		List<String> lines = logLines();
		return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
	}

	/**
	 * Send SIGTERM.
	 */
	public void sigterm() {
		this.process.destroy();
	}

	/**
	 * Send SIGINT, as Ctrl-C in a terminal does.
	 */
	public void sigint() {
		signal("INT");
	}

	/**
	 * Send SIGKILL.
	 */
	public void sigkill() {
		this.process.destroyForcibly();
	}

	/**
	 * Send SIGSTOP: the process stands still, its connections open, as in a long pause of
	 * the garbage collector.
	 */
	public void sigstop() {
		signal("STOP");
	}

	/**
	 * Send SIGCONT, after {@link #sigstop()}.
	 */
	public void sigcont() {
		signal("CONT");
	}

	private void signal(String name) {
		try {
			Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid()))
				.redirectOutput(ProcessBuilder.Redirect.DISCARD)
				.redirectError(ProcessBuilder.Redirect.DISCARD)
				.start();
			if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
				kill.destroyForcibly();
				throw new IllegalStateException("Could not send SIG" + name + " to " + pid());
			}
		}
		catch (IOException ex) {
			throw new IllegalStateException("Could not send SIG" + name + " to " + pid(), ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted while sending SIG" + name, ex);
		}
	}

	/**
	 * Whether the process is still running.
	 * @return {@code true} if it is alive
	 */
	public boolean isAlive() {
		return this.process.isAlive();
	}

	/**
	 * Wait for the process to exit.
	 * @param timeout how long to wait at most
	 * @return the exit status
	 * @throws AssertionError if it is still running after the timeout
	 */
	public int awaitExit(Duration timeout) {
		try {
			if (!this.process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
				throw new AssertionError("The service did not exit within " + timeout + ":\n" + logTail());
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new AssertionError("Interrupted while waiting for the service to exit", ex);
		}
		return this.process.exitValue();
	}

	@Override
	public void close() {
		Programs.kill(this.process);
		keepLog();
	}

	private void keepLog() {
		try {
			Path logs = jar().getParent().resolve("it-logs");
			Files.createDirectories(logs);
			Files.copy(this.log, logs.resolve(this.log.getFileName().toString().replace(".log", "-" + pid() + ".log")),
					StandardCopyOption.REPLACE_EXISTING);
		}
		catch (IOException ex) {
			// Only a convenience for reading failures
		}
	}

}

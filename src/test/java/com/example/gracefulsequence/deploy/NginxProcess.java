package com.example.gracefulsequence.deploy;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;

import static org.assertj.core.api.Assertions.fail;

/**
 * nginx started on a copy of {@code deploy/nginx/nginx.conf} that differs only in its
 * ports, its temporary paths and the settings a test shortens, in the foreground, so that
 * closing it ends what it started by handle.
 *
 * @author graceful-sequence contributors
 */
final class NginxProcess extends ExternalProcess {

	/**
	 * The shipped configuration.
	 */
	static final Path CONFIG = Path.of("deploy", "nginx", "nginx.conf");

	private static final List<Path> LOCATIONS = List.of(Path.of("/usr/sbin/nginx"), Path.of("/usr/local/sbin/nginx"));

	// nginx creates these at startup; the package's paths are root's
	private static final List<String> TEMPORARY_PATHS = List.of("client_body_temp_path", "proxy_temp_path",
			"fastcgi_temp_path", "uwsgi_temp_path", "scgi_temp_path");

	private static final Pattern LISTEN = Pattern.compile("(?m)^(\\s*listen\\s+)[^;\\s]+");

	private static final Pattern SERVER = Pattern.compile("(?m)^(\\s*server\\s+)127\\.0\\.0\\.1:\\d+");

	private NginxProcess(Process process, int port, Path log) {
		super(process, port, log);
	}

	/**
	 * The nginx executable, or else the test is skipped with one line naming the script
	 * that installs it, or fails when the environment variable {@code CI} is set.
	 * @return the executable
	 */
	static Path executable() {
		Stream<Path> onPath = Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
			.filter((directory) -> !directory.isEmpty())
			.map((directory) -> Path.of(directory, "nginx"));
		Path nginx = Stream.concat(onPath, LOCATIONS.stream()).filter(Files::isExecutable).findFirst().orElse(null);
		if (nginx == null) {
			String missing = "nginx is not installed, so " + CONFIG
					+ " is not run: run .ci/install-nginx.sh as root (Debian package nginx-light)";
			if (System.getenv("CI") != null) {
				fail(missing + "; CI is set, so this fails instead of being skipped");
			}
			Assumptions.abort(missing);
		}
		return nginx;
	}

	/**
	 * A copy of the shipped configuration to run in a directory: listening on loopback on
	 * the given port, every upstream server on the one instance, temporary paths in the
	 * directory, and some settings given other values.
	 * @param directory the directory, nginx's prefix
	 * @param port the port to listen on
	 * @param servicePort the instance's port
	 * @param settings directives of the file and the values to give them, such as
	 * {@code proxy_read_timeout} and {@code 3s}; each must be set once in the file
	 * @return the configuration
	 * @throws IOException if the shipped file cannot be read
	 */
	static String copy(Path directory, int port, int servicePort, Map<String, String> settings) throws IOException {
		String text = Files.readString(CONFIG);
		text = replaceEach(text, LISTEN, List.of("127.0.0.1:" + port));
		int servers = (int) SERVER.matcher(text).results().count();
		if (servers == 0) {
			throw new AssertionError(CONFIG + ": no upstream server on 127.0.0.1");
		}
		text = replaceEach(text, SERVER, Collections.nCopies(servers, "127.0.0.1:" + servicePort));
		for (Map.Entry<String, String> setting : settings.entrySet()) {
			Pattern directive = Pattern.compile("(?m)^(\\s*" + Pattern.quote(setting.getKey()) + "\\s+)[^;]+");
			text = replaceEach(text, directive, List.of(setting.getValue()));
		}
		StringBuilder paths = new StringBuilder();
		for (String path : TEMPORARY_PATHS) {
			paths.append("\t").append(path).append(' ').append(directory.resolve(path)).append(";\n");
		}
		return text.replaceFirst("(?m)^http \\{\n", "http {\n" + Matcher.quoteReplacement(paths.toString()));
	}

	// Replaces the value after each match with the next replacement; as many matches as
	// replacements
	private static String replaceEach(String text, Pattern pattern, List<String> replacements) {
		Matcher matcher = pattern.matcher(text);
		StringBuilder result = new StringBuilder();
		Iterator<String> next = replacements.iterator();
		int found = 0;
		while (matcher.find()) {
			found++;
			if (!next.hasNext()) {
				break;
			}
			matcher.appendReplacement(result, Matcher.quoteReplacement(matcher.group(1) + next.next()));
		}
		if (found != replacements.size()) {
			throw new AssertionError(
					CONFIG + ": expected " + replacements.size() + " match(es) of " + pattern + ", found " + found);
		}
		matcher.appendTail(result);
		return result.toString();
	}

	/**
	 * Run {@code nginx -t} on a configuration.
	 * @param nginx the executable
	 * @param directory the directory, nginx's prefix, where the configuration is written
	 * @param configuration the configuration
	 * @return the exit status and the output
	 * @throws IOException if nginx cannot be run
	 * @throws InterruptedException if interrupted while waiting for it
	 */
	static Result test(Path nginx, Path directory, String configuration) throws IOException, InterruptedException {
		Path file = write(directory, configuration);
		Process process = new ProcessBuilder(command(nginx, directory, file, "-t")).redirectErrorStream(true).start();
		try {
			String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
			if (!process.waitFor(30, TimeUnit.SECONDS)) {
				throw new AssertionError("nginx -t did not end within 30 s: " + output);
			}
			return new Result(process.exitValue(), output);
		}
		finally {
			process.destroyForcibly();
		}
	}

	/**
	 * Start nginx in the foreground on a configuration and wait until it accepts
	 * connections on its port.
	 * @param nginx the executable
	 * @param directory the directory, nginx's prefix, where the configuration and the log
	 * are written
	 * @param configuration the configuration
	 * @param port the port it listens on
	 * @return the running nginx
	 * @throws IOException if nginx cannot be started
	 */
	static NginxProcess start(Path nginx, Path directory, String configuration, int port) throws IOException {
		Path file = write(directory, configuration);
		Path log = directory.resolve("nginx.log");
		Process process = new ProcessBuilder(command(nginx, directory, file)).redirectErrorStream(true)
			.redirectOutput(log.toFile())
			.start();
		NginxProcess started = new NginxProcess(process, port, log);
		started.awaitAccepting("nginx", Duration.ofSeconds(20));
		return started;
	}

	private static List<String> command(Path nginx, Path directory, Path file, String... options) {
		List<String> command = new ArrayList<>(List.of(nginx.toString(), "-p", directory + "/", "-c", file.toString(),
				"-g", "daemon off; pid " + directory.resolve("nginx.pid") + ";"));
		command.addAll(List.of(options));
		return command;
	}

	private static Path write(Path directory, String configuration) throws IOException {
		return Files.writeString(directory.resolve("nginx.conf"), configuration);
	}

	/**
	 * The outcome of a run that ended.
	 *
	 * @param status the exit status
	 * @param output what it printed
	 */
	record Result(int status, String output) {

	}

}

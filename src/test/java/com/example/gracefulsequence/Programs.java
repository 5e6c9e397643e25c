package com.example.gracefulsequence;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;

import static org.assertj.core.api.Assertions.fail;

/**
 * Programs that tests run beside the service, such as {@code promtool} or
 * {@code redis-server}: found on the path or where Debian installs them; a test whose
 * program is missing is skipped with one line that names the {@code .ci} script that
 * installs it, or fails where {@code CI} is set.
 *
 * @author graceful-sequence contributors
 */
public final class Programs {

	private static final List<String> LOCATIONS = List.of("/usr/bin", "/usr/sbin", "/usr/local/bin");

	private Programs() {
	}

	/**
	 * The program, or the test ends here.
	 * @param name the program's name, such as {@code promtool}
	 * @param script the script that installs it, such as
	 * {@code .ci/install-prometheus.sh}
	 * @param unchecked what is not checked without it
	 * @return the executable
	 */
	public static Path require(String name, String script, String unchecked) {
		Stream<String> directories = Stream
			.concat(Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)), LOCATIONS.stream());
		Path found = directories.filter((directory) -> !directory.isEmpty())
			.map((directory) -> Path.of(directory, name))
			.filter(Files::isExecutable)
			.findFirst()
			.orElse(null);
		if (found == null) {
			String missing = name + " is not installed, so " + unchecked + ": run " + script + " as root";
			if (System.getenv("CI") != null) {
				fail(missing + "; CI is set, so this fails instead of being skipped");
			}
			Assumptions.abort(missing);
		}
		return found;
	}

	/**
	 * End a process that a test started: SIGKILL if it is still running, and wait a while
	 * for it to go.
	 * @param process the process
	 */
	public static void kill(Process process) {
		if (process.isAlive()) {
			process.destroyForcibly();
			try {
				process.waitFor(10, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
	}

	/**
	 * Run a program to its end, or end it when it takes too long. Its output goes to a
	 * file rather than a pipe, so that a program that hangs (a client of a stopped
	 * server) cannot hold the caller past the bound in a read.
	 * @param timeout how long it may take
	 * @param command the program and its arguments
	 * @return what it printed, and how it ended
	 * @throws IOException if it cannot be started
	 * @throws InterruptedException if interrupted while waiting
	 */
	public static Result run(Duration timeout, String... command) throws IOException, InterruptedException {
		Path output = Files.createTempFile("program-", ".out");
		try {
			Process process = new ProcessBuilder(command).redirectErrorStream(true)
				.redirectOutput(output.toFile())
				.start();
			try {
				if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
					fail(String.join(" ", command) + " took more than " + timeout + ":\n" + read(output));
				}
				return new Result(process.exitValue(), read(output));
			}
			finally {
				process.destroyForcibly();
			}
		}
		finally {
			Files.deleteIfExists(output);
		}
	}

	private static String read(Path output) throws IOException {
		return new String(Files.readAllBytes(output), StandardCharsets.UTF_8);
	}

	/**
	 * How a program ended.
	 *
	 * @param exitValue its exit status
	 * @param output what it printed on standard output and error
	 */
	public record Result(int exitValue, String output) {

	}

}

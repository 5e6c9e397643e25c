package com.example.gracefulsequence.deploy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import com.example.gracefulsequence.FreePort;
import com.example.gracefulsequence.HttpConnection;
import com.example.gracefulsequence.deploy.DockerfileInstructions.Instruction;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Runs {@code deploy/aot/run-with-aot-cache.sh}, the container image's java command lines
 * outside the image, on a local Java 25, and checks that those command lines are the
 * Dockerfile's.
 *
 * @author graceful-sequence contributors
 */
class AotCacheScriptIT {

	private static final Path SCRIPT = Path.of("deploy", "aot", "run-with-aot-cache.sh");

	private static final String DEFAULT_JAVA_25_HOME = "/usr/lib/jvm/temurin-25-jdk-amd64";

	private static final String BYE = "I'm leaving, bye!";

	private static final int SIGTERM_EXIT_STATUS = 143;

	@Test
	void scriptRunsTheJavaCommandLinesOfTheDockerfile(@TempDir Path temp) throws Exception {
		Map<String, List<String>> script = dryRun(temp);
		DockerfileInstructions dockerfile = DockerfileInstructions.read(Path.of("Dockerfile"));
		List<String> extract = run(dockerfile.stages().get(0), "-Djarmode=tools");
		List<String> train = run(dockerfile.finalStage(), "-XX:AOTCacheOutput=");
		List<String> run = dockerfile.finalStage()
			.stream()
			.filter((instruction) -> instruction.keyword().equals("ENTRYPOINT"))
			.findFirst()
			.orElseThrow()
			.execForm();
		assertThat(script).containsOnlyKeys("extract", "train", "run");
		assertThat(script.get("train").get(0)).as("the training run beside the script")
			.endsWith("/deploy/aot/train.sh");
		List<String> scriptTrain = arguments(script.get("train"));
		assertThat(List.of(script.get("extract"), scriptTrain, script.get("run")))
			.allSatisfy((command) -> assertThat(command.get(0)).endsWith("/java"));
		assertThat(extractOptions(script.get("extract"))).isEqualTo(extractOptions(extract));
		assertThat(arguments(scriptTrain)).isEqualTo(arguments(arguments(train)));
		assertThat(arguments(script.get("run"))).isEqualTo(arguments(run));
	}

	@Test
	void serviceStartsWithTheTrainedCacheAndLeavesOnSigterm(@TempDir Path temp) throws Exception {
		Path javaHome = java25Home();
		Assumptions.assumeTrue(Files.isExecutable(javaHome.resolve("bin").resolve("java")),
				() -> "No Java 25 JDK at " + javaHome + " (set JAVA25_HOME or -Djava25.home to one); "
						+ "the AOT cache script needs Java 25 or later");
		Path jar = Path.of(System.getProperty("graceful-sequence.jar", "target/graceful-sequence.jar"));
		Path application = temp.resolve("application");
		Path stateFile = temp.resolve("state").resolve("last-num-from-seq.txt");
		int port = FreePort.find();
		ProcessBuilder builder = new ProcessBuilder("bash", SCRIPT.toAbsolutePath().toString(),
				jar.toAbsolutePath().toString(), "--server.port=" + port, "--sequence.state-file=" + stateFile,
				"--sequence.period=200ms")
			.directory(temp.toFile())
			.redirectErrorStream(true);
		builder.environment().put("JAVA_HOME", javaHome.toString());
		builder.environment().put("APP_DIR", application.toString());
		builder.environment().remove("DRY_RUN");
		Process process = builder.start();
		List<String> output = new CopyOnWriteArrayList<>();
		Thread reader = readInto(process, output);
		try {
			// Extraction, the training run and the start, on a machine that may be busy
			await().atMost(Duration.ofMinutes(5))
				.pollInterval(Duration.ofMillis(250))
				.until(() -> answers200(port, "/sequence/last") || !process.isAlive());
			assertThat(process.isAlive()).as("the service runs; its output:%n%s", String.join("\n", output)).isTrue();
			// The JVM replaced the script: this is SIGTERM to the JVM, as for PID 1 in
			// the image. Through the handle, because Process.destroy() also closes the
			// output that is still to be read.
			assertThat(process.toHandle().destroy()).isTrue();
			assertThat(process.waitFor(1, TimeUnit.MINUTES)).isTrue();
			reader.join(Duration.ofSeconds(10).toMillis());
			List<String> lines = List.copyOf(output);
			assertThat(process.exitValue()).as(String.join("\n", lines)).isEqualTo(SIGTERM_EXIT_STATUS);
			assertThat(lines).anySatisfy((line) -> assertThat(line).startsWith("train: "));
			List<String> run = lines.subList(indexOfRun(lines), lines.size());
			assertThat(run).as("the service's output").isNotEmpty();
			assertThat(run.get(run.size() - 1)).endsWith(BYE);
			assertThat(run).as("no AOT cache warnings or errors: the cache was used")
				.noneSatisfy((line) -> assertThat(line).contains("][aot]"));
			assertThat(application.resolve("app.aot")).isNotEmptyFile();
			assertThat(stateFile).content().matches("Last number from random sequence: \\d+\n");
		}
		finally {
			process.destroyForcibly();
		}
	}

	private static Map<String, List<String>> dryRun(Path temp) throws IOException, InterruptedException {
		ProcessBuilder builder = new ProcessBuilder("bash", SCRIPT.toAbsolutePath().toString(), "graceful-sequence.jar")
			.directory(temp.toFile())
			.redirectErrorStream(true);
		builder.environment().put("DRY_RUN", "1");
		Process process = builder.start();
		String output = new String(process.getInputStream().readAllBytes());
		assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
		assertThat(process.exitValue()).as(output).isZero();
		Map<String, List<String>> commands = new LinkedHashMap<>();
		output.lines().forEach((line) -> {
			int colon = line.indexOf(": ");
			commands.put(line.substring(0, colon), List.of(line.substring(colon + 2).split(" ")));
		});
		return commands;
	}

	private static List<String> run(List<Instruction> stage, String containing) {
		return stage.stream()
			.filter((instruction) -> instruction.keyword().equals("RUN"))
			.map(Instruction::withoutFlags)
			.filter((command) -> command.stream().anyMatch((word) -> word.startsWith(containing)))
			.findFirst()
			.orElseThrow(() -> new AssertionError("No RUN with " + containing));
	}

	private static List<String> arguments(List<String> command) {
		return command.subList(1, command.size());
	}

	// Paths differ between the image and the script: the jar and the destination
	private static List<String> extractOptions(List<String> command) {
		List<String> options = new ArrayList<>(command);
		int jar = options.indexOf("-jar") + 1;
		options.remove(jar);
		int destination = options.indexOf("--destination");
		options.remove(destination + 1);
		options.remove(destination);
		return arguments(options);
	}

	private static int indexOfRun(List<String> lines) {
		for (int i = 0; i < lines.size(); i++) {
			if (lines.get(i).startsWith("run: ")) {
				return i + 1;
			}
		}
		throw new AssertionError("The script did not start the service:\n" + String.join("\n", lines));
	}

	private static Path java25Home() {
		String home = System.getProperty("java25.home", System.getenv("JAVA25_HOME"));
		return Path.of((home != null) ? home : DEFAULT_JAVA_25_HOME);
	}

	private static Thread readInto(Process process, List<String> output) {
		Thread reader = new Thread(() -> {
			try (BufferedReader lines = process.inputReader()) {
				lines.lines().forEach(output::add);
			}
			catch (IOException ex) {
				throw new UncheckedIOException(ex);
			}
		}, "aot-script-output");
		reader.setDaemon(true);
		reader.start();
		return reader;
	}

	private static boolean answers200(int port, String path) {
		try {
			return HttpConnection.get(port, path).status() == 200;
		}
		catch (IOException ex) {
			return false;
		}
	}

}

package com.example.gracefulsequence.state;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.example.gracefulsequence.ServiceProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code kill -9} at random moments, many times over, never leaves a torn, empty or
 * invented state file, nor a pile of temporary files, and every start restores what the
 * last one saved.
 *
 * @author graceful-sequence contributors
 */
class CrashSafetyIT {

	private static final int ROUNDS = 12;

	private static final Pattern VALID = Pattern.compile("Last number from random sequence: (\\d+)\n");

	@Test
	void whenTheProcessIsKilledAtRandomMomentsThenTheStateFileIsAlwaysAbsentOrOneCompleteLine(@TempDir Path directory)
			throws Exception {
		long seed = System.nanoTime();
		SplittableRandom random = new SplittableRandom(seed);
		Integer saved = null;
		int roundsWithValues = 0;
		for (int round = 1; round <= ROUNDS; round++) {
			String context = "round " + round + " of the run with seed " + seed;
			try (ServiceProcess service = ServiceProcess.start(directory, "--sequence.period=5ms")) {
				boolean duringStartup = round % 3 == 1;
				if (duringStartup) {
					service.awaitMessage("the application is starting",
							(message) -> message.startsWith("Starting AOT-processed GracefulSequenceApplication"),
							ServiceProcess.STARTUP_TIMEOUT);
					killAfter(service, random.nextInt(2500));
				}
				else {
					service.awaitReceived(1, ServiceProcess.STARTUP_TIMEOUT);
					killAfter(service, random.nextInt(400));
				}
				assertThat(service.awaitExit(Duration.ofSeconds(10))).as(context).isEqualTo(137);
				List<String> messages = service.messages();
				if (!duringStartup && saved != null) {
					String restored = "Restored value " + saved + " from state file " + service.stateFile();
					assertThat(messages).as(context).anyMatch((message) -> message.startsWith(restored));
				}
				List<Integer> received = service.receivedValues();
				Integer now = savedValue(service.stateFile(), context);
				if (now == null) {
					assertThat(saved).as(context + ": a saved file never disappears").isNull();
					assertThat(received).as(context + ": a produced value is saved").isEmpty();
				}
				else {
					List<Integer> history = new ArrayList<>();
					if (saved != null) {
						history.add(saved);
					}
					history.addAll(received);
					assertThat(history).as(context + ": a value was produced or restored").isNotEmpty();
					assertThat(history.subList(Math.max(0, history.size() - 2), history.size()))
						.as(context + ": the file holds the last value produced, or the one before it")
						.contains(now);
				}
				assertThat(leftovers(directory)).as(context + ": files next to the state file")
					.allMatch((name) -> name.equals(ServiceProcess.STATE_FILE)
							|| name.equals(ServiceProcess.STATE_FILE + ".tmp"));
				roundsWithValues += (received.isEmpty()) ? 0 : 1;
				saved = now;
			}
		}
		assertThat(roundsWithValues).as("rounds killed while producing").isGreaterThanOrEqualTo(ROUNDS / 2);
		assertThat(saved).isNotNull();
	}

	// The kill must land at a random moment: this pause is the test's input, not a wait
	// for something to happen
	private static void killAfter(ServiceProcess service, int millis) throws InterruptedException {
		TimeUnit.MILLISECONDS.sleep(millis);
		service.sigkill();
	}

	private static Integer savedValue(Path stateFile, String context) throws Exception {
		if (!Files.exists(stateFile)) {
			return null;
		}
		String content = Files.readString(stateFile, StandardCharsets.UTF_8);
		Matcher matcher = VALID.matcher(content);
		assertThat(matcher.matches()).as(context + ": the state file is one complete line, but was '%s'", content)
			.isTrue();
		return Integer.valueOf(matcher.group(1));
	}

	private static List<String> leftovers(Path directory) throws Exception {
		try (Stream<Path> files = Files.list(directory)) {
			return files.map((file) -> file.getFileName().toString())
				.filter((name) -> !name.matches("service-\\d+\\.log"))
				.toList();
		}
	}

}

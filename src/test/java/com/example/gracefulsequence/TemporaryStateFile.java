package com.example.gracefulsequence;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.MapPropertySource;
import org.springframework.test.context.ContextConfiguration;

/**
 * Gives a full-application test a state file of its own, in a temporary directory that is
 * deleted when the test JVM exits. With the property {@value #RESTORED}, the file holds
 * that value at startup, so that the service has a value from the start: the first new
 * one comes a period later.
 *
 * @author graceful-sequence contributors
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@ContextConfiguration(initializers = TemporaryStateFile.Initializer.class)
public @interface TemporaryStateFile {

	/**
	 * The property that names a value for the state file to hold at startup.
	 */
	String RESTORED = "test.state-file.restored";

	/**
	 * Points {@code sequence.state-file} into a new temporary directory.
	 */
	class Initializer implements ApplicationContextInitializer<ConfigurableApplicationContext> {

		@Override
		public void initialize(ConfigurableApplicationContext context) {
			Path directory;
			try {
				directory = Files.createTempDirectory("graceful-sequence-test");
			}
			catch (IOException ex) {
				throw new UncheckedIOException(ex);
			}
			Path stateFile = directory.resolve("last.txt");
			String restored = context.getEnvironment().getProperty(TemporaryStateFile.RESTORED);
			if (restored != null) {
				try {
					Files.writeString(stateFile, "Last number from random sequence: " + restored + "\n");
				}
				catch (IOException ex) {
					throw new UncheckedIOException(ex);
				}
			}
			context.getEnvironment()
				.getPropertySources()
				.addFirst(new MapPropertySource("temporaryStateFile",
						Map.of("sequence.state-file", stateFile.toString())));
			// Deleted when the test JVM exits: the state file is written until the
			// context has
			// closed, and the context may be cached until then
			Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(directory)));
		}

		private static void delete(Path directory) {
			try (Stream<Path> paths = Files.walk(directory)) {
				paths.sorted(Comparator.reverseOrder()).forEach((path) -> path.toFile().delete());
			}
			catch (IOException ex) {
				// Left for the system's temporary directory cleaning
			}
		}

	}

}

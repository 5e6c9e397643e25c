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
 * deleted when the test JVM exits.
 *
 * @author graceful-sequence contributors
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@ContextConfiguration(initializers = TemporaryStateFile.Initializer.class)
public @interface TemporaryStateFile {

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
			context.getEnvironment()
				.getPropertySources()
				.addFirst(new MapPropertySource("temporaryStateFile",
						Map.of("sequence.state-file", directory.resolve("last.txt").toString())));
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

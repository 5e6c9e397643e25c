package com.example.gracefulsequence;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The configuration metadata that IDEs read for completion and documentation of
 * {@code sequence.*} and {@code shutdown.*} is in the jar whichever JDK builds it: a copy
 * of the project is packaged with the wrapper on Temurin 25 (the Dockerfile's build JDK),
 * whose {@code javac} runs no annotation processor found on the class path unless told
 * to. Without that JDK it is skipped with one line, or fails where {@code CI} is set.
 *
 * @author graceful-sequence contributors
 */
class ConfigurationMetadataIT {

	private static final Path JDK_25 = Path
		.of(System.getProperty("graceful-sequence.jdk25", "/usr/lib/jvm/temurin-25-jdk-amd64"));

	private static final String METADATA = "META-INF/spring-configuration-metadata.json";

	// A build on two busy shared cores, the dependencies already in the local repository
	private static final long BUILD_MINUTES = 8;

	@TempDir
	Path project;

	@Test
	void aBuildOnJava25PutsTheConfigurationMetadataInTheJar() throws IOException, InterruptedException {
		if (!Files.isExecutable(JDK_25.resolve("bin").resolve("javac"))) {
			String missing = "No JDK 25 at " + JDK_25 + " (system property graceful-sequence.jdk25), so the "
					+ "configuration metadata of a Java 25 build is not checked";
			if (System.getenv("CI") != null) {
				fail(missing + "; CI is set, so this fails instead of being skipped");
			}
			Assumptions.abort(missing);
		}
		copyProject();
		Path log = this.project.resolve("build.log");
		ProcessBuilder builder = new ProcessBuilder("./mvnw", "-B", "-V", "package", "-DskipTests",
				"-Djacoco.skip=true", "-Dcheckstyle.skip=true", "-Dspring-javaformat.skip=true",
				"-Dspring-boot.aot.skip=true")
			.directory(this.project.toFile())
			.redirectErrorStream(true)
			.redirectOutput(log.toFile());
		builder.environment().put("JAVA_HOME", JDK_25.toString());
		builder.environment().remove("MAVEN_OPTS");
		Process build = builder.start();
		try {
			if (!build.waitFor(BUILD_MINUTES, TimeUnit.MINUTES)) {
				fail("The build on Java 25 took more than " + BUILD_MINUTES + " minutes:\n" + tail(log));
			}
		}
		finally {
			build.descendants().forEach(ProcessHandle::destroyForcibly);
			build.destroyForcibly();
		}
		assertThat(build.exitValue()).as(tail(log)).isZero();
		assertThat(Files.readString(log)).as("built by the JDK 25").contains(JDK_25.toString());
		try (JarFile jar = new JarFile(this.project.resolve("target/graceful-sequence.jar").toFile())) {
			ZipEntry entry = jar.getEntry(METADATA);
			assertThat(entry).as(METADATA + " in the jar built on Java 25").isNotNull();
			String metadata = new String(jar.getInputStream(entry).readAllBytes(), StandardCharsets.UTF_8);
			assertThat(metadata).contains("\"sequence.period\"", "\"sequence.fast-path.enabled\"",
					"\"shutdown.drain-delay\"");
		}
	}

	private void copyProject() throws IOException {
		Path root = Path.of("").toAbsolutePath();
		for (String top : List.of("pom.xml", "mvnw", ".mvn", "src/main")) {
			try (Stream<Path> paths = Files.walk(root.resolve(top))) {
				for (Path path : paths.toList()) {
					Path target = this.project.resolve(root.relativize(path).toString());
					if (Files.isDirectory(path)) {
						Files.createDirectories(target);
					}
					else {
						Files.createDirectories(target.getParent());
						Files.copy(path, target, StandardCopyOption.COPY_ATTRIBUTES);
					}
				}
			}
		}
	}

	private static String tail(Path log) throws IOException {
		List<String> lines = Files.readAllLines(log);
		return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
	}

}

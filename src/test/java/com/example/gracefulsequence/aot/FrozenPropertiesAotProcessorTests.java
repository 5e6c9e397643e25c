package com.example.gracefulsequence.aot;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;

import com.example.gracefulsequence.GracefulSequenceApplication;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.aot.generate.ClassNameGenerator;
import org.springframework.aot.generate.DefaultGenerationContext;
import org.springframework.aot.generate.GeneratedFiles.Kind;
import org.springframework.aot.generate.InMemoryGeneratedFiles;
import org.springframework.beans.factory.aot.BeanFactoryInitializationAotContribution;
import org.springframework.beans.factory.aot.BeanFactoryInitializationCode;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.javapoet.ClassName;
import org.springframework.mock.env.MockEnvironment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;

/**
 * Tests for {@link FrozenPropertiesAotProcessor}: what the build keeps beside the
 * generated bean definitions, and how the application reads it back.
 *
 * @author graceful-sequence contributors
 */
class FrozenPropertiesAotProcessorTests {

	@TempDir
	Path classes;

	@Test
	void theBuildKeepsEveryConditionPropertyWithItsValueThenAsAResource() throws IOException {
		DefaultListableBeanFactory beanFactory = new DefaultListableBeanFactory();
		beanFactory.registerSingleton("environment",
				new MockEnvironment().withProperty("management.endpoint.health.probes.enabled", "true"));
		BeanFactoryInitializationAotContribution contribution = new FrozenPropertiesAotProcessor()
			.processAheadOfTime(beanFactory);
		InMemoryGeneratedFiles files = new InMemoryGeneratedFiles();
		contribution
			.applyTo(
					new DefaultGenerationContext(
							new ClassNameGenerator(ClassName.get(GracefulSequenceApplication.class)), files),
					mock(BeanFactoryInitializationCode.class));
		String resource = files.getGeneratedFileContent(Kind.RESOURCE, FrozenProperties.LOCATION);
		assertThat(resource).isNotNull();
		Path file = this.classes.resolve(FrozenProperties.LOCATION);
		Files.createDirectories(file.getParent());
		Files.writeString(file, resource);
		try (URLClassLoader classLoader = new URLClassLoader(new URL[] { this.classes.toUri().toURL() }, null)) {
			FrozenProperties frozen = FrozenProperties.load(classLoader);
			assertThat(frozen).isNotNull();
			assertThat(frozen.properties().get("management.endpoint.health.probes.enabled").built()).isEqualTo("true");
			assertThat(frozen.properties().get("management.server.port").built()).isNull();
		}
	}

	@Test
	void aJarWithoutThemHasNothingToSay() throws IOException {
		try (URLClassLoader classLoader = new URLClassLoader(new URL[] { this.classes.toUri().toURL() }, null)) {
			assertThat(FrozenProperties.load(classLoader)).isNull();
		}
	}

}

package com.example.gracefulsequence.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.example.gracefulsequence.sequence.SequenceProperties;
import com.example.gracefulsequence.shutdown.ShutdownProperties;

import org.springframework.boot.autoconfigure.context.LifecycleProperties;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.bind.PropertySourcesPlaceholdersResolver;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.core.env.MutablePropertySources;
import org.springframework.core.env.PropertiesPropertySource;
import org.springframework.core.env.SimpleCommandLinePropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;
import org.springframework.core.io.FileSystemResource;
import org.springframework.core.io.support.PropertiesLoaderUtils;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The configuration a deployment gives the application: the defaults of
 * {@code application.properties} and of the property classes, overridden by the
 * deployment's environment variables and command-line arguments, bound the way Spring
 * Boot binds them. Deployment tests compare their files with this rather than with copies
 * of the defaults.
 *
 * @param serverPort the HTTP port
 * @param timeoutPerShutdownPhase the bound on each shutdown phase, the HTTP drain
 * included
 * @param shutdown the shutdown properties
 * @param sequence the sequence properties
 * @param forwardedAddress whose forwarded client address the application trusts
 * @author graceful-sequence contributors
 */
record ApplicationSettings(int serverPort, Duration timeoutPerShutdownPhase, ShutdownProperties shutdown,
		SequenceProperties sequence, ForwardedAddress forwardedAddress) {

	/**
	 * The shortest {@code shutdown.drain-delay} the README recommends behind a load
	 * balancer or on Kubernetes.
	 */
	static final Duration SHORTEST_RECOMMENDED_DRAIN_DELAY = Duration.ofSeconds(5);

	/**
	 * The longest {@code shutdown.drain-delay} the README recommends.
	 */
	static final Duration LONGEST_RECOMMENDED_DRAIN_DELAY = Duration.ofSeconds(10);

	private static final String APPLICATION_PROPERTIES = "src/main/resources/application.properties";

	// Spring Boot's own default, used only if application.properties stopped setting one
	private static final int BOOT_DEFAULT_PORT = 8080;

	/**
	 * The application's defaults.
	 * @return the settings with no environment variables and no arguments
	 */
	static ApplicationSettings defaults() {
		return of(Map.of(), List.of());
	}

	/**
	 * The instances that the comment of a proxy's configuration file starts
	 * ({@code # java -jar ... --server.port=3334 ...}), bound as the application binds
	 * their arguments.
	 * @param config the configuration file
	 * @return the settings of each instance, at least one
	 */
	static List<ApplicationSettings> exampleInstances(Path config) {
		try (Stream<String> lines = Files.lines(config)) {
			List<ApplicationSettings> instances = new ArrayList<>();
			lines.map(String::strip)
				.filter((line) -> line.startsWith("#"))
				.map((line) -> List.of(line.substring(1).strip().split("\\s+")))
				.filter((words) -> words.get(0).equals("java") && words.contains("-jar"))
				.forEach(
						(words) -> instances.add(of(Map.of(), words.subList(words.indexOf("-jar") + 2, words.size()))));
			assertThat(instances).as("java -jar command lines in the comment of " + config).isNotEmpty();
			return instances;
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	/**
	 * Check that the instances the comment of a proxy's configuration file starts are the
	 * proxy's servers, in cluster mode (one sequence for all of them), each with a state
	 * file of its own.
	 * @param config the configuration file
	 * @param serverPorts the ports of the proxy's servers
	 */
	static void assertExampleCluster(Path config, List<Integer> serverPorts) {
		List<ApplicationSettings> instances = exampleInstances(config);
		assertThat(instances).extracting(ApplicationSettings::serverPort)
			.containsExactlyInAnyOrderElementsOf(serverPorts);
		assertThat(instances).as("sequence.cluster.enabled")
			.allSatisfy((instance) -> assertThat(instance.sequence().cluster().enabled()).isTrue());
		assertThat(instances).extracting((instance) -> instance.sequence().stateFile())
			.as("a state file each")
			.doesNotHaveDuplicates();
	}

	/**
	 * The settings of an application started with the given environment variables and
	 * arguments.
	 * @param environment the environment variables, e.g. {@code SHUTDOWN_DRAIN_DELAY=10s}
	 * @param arguments the command-line arguments, e.g. {@code --server.port=8080}
	 * @return the settings
	 */
	static ApplicationSettings of(Map<String, String> environment, List<String> arguments) {
		MutablePropertySources sources = new MutablePropertySources();
		sources.addLast(new SimpleCommandLinePropertySource(arguments.toArray(String[]::new)));
		sources.addLast(new SystemEnvironmentPropertySource(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
				new LinkedHashMap<>(environment)));
		sources.addLast(new PropertiesPropertySource("application.properties", applicationProperties()));
		Binder binder = new Binder(ConfigurationPropertySources.from(sources),
				new PropertySourcesPlaceholdersResolver(sources));
		return new ApplicationSettings(binder.bind("server.port", Integer.class).orElse(BOOT_DEFAULT_PORT),
				binder.bindOrCreate("spring.lifecycle", LifecycleProperties.class).getTimeoutPerShutdownPhase(),
				binder.bindOrCreate("shutdown", ShutdownProperties.class),
				binder.bindOrCreate("sequence", SequenceProperties.class),
				new ForwardedAddress(binder.bind("server.forward-headers-strategy", String.class).orElse("none"),
						binder.bind("server.tomcat.remoteip.internal-proxies", String.class).orElse("")));
	}

	/**
	 * The shortest {@code shutdown.deadline} the application accepts at startup is longer
	 * than this: the drain delay plus the per-phase timeout.
	 * @return the drain delay plus the per-phase timeout
	 */
	Duration drainDelayPlusTimeout() {
		return this.shutdown.drainDelay().plus(this.timeoutPerShutdownPhase);
	}

	private static Properties applicationProperties() {
		try {
			return PropertiesLoaderUtils.loadProperties(new FileSystemResource(APPLICATION_PROPERTIES));
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	/**
	 * Whose {@code X-Forwarded-For} the application takes as the client's address: with
	 * {@code server.forward-headers-strategy=native}, Tomcat's {@code RemoteIpValve}
	 * trusts a peer whose whole address matches
	 * {@code server.tomcat.remoteip.internal-proxies} (a regular expression; empty trusts
	 * none).
	 *
	 * @param strategy {@code server.forward-headers-strategy}
	 * @param internalProxies {@code server.tomcat.remoteip.internal-proxies}
	 */
	record ForwardedAddress(String strategy, String internalProxies) {

		/**
		 * Whether a request from this peer may name the client with
		 * {@code X-Forwarded-For}.
		 * @param peer the peer's address as Tomcat writes it, e.g. {@code 127.0.0.1}
		 * @return whether the application trusts it
		 */
		boolean trusts(String peer) {
			return "native".equalsIgnoreCase(this.strategy) && !this.internalProxies.isEmpty()
					&& Pattern.compile(this.internalProxies).matcher(peer).matches();
		}

	}

}

package com.example.gracefulsequence;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.context.annotation.ImportCandidates;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.core.annotation.MergedAnnotation;
import org.springframework.core.annotation.MergedAnnotations;
import org.springframework.core.env.Environment;
import org.springframework.core.io.ClassPathResource;
import org.springframework.core.io.Resource;
import org.springframework.core.type.AnnotationMetadata;
import org.springframework.core.type.MethodMetadata;
import org.springframework.core.type.classreading.CachingMetadataReaderFactory;
import org.springframework.core.type.classreading.MetadataReader;
import org.springframework.core.type.classreading.MetadataReaderFactory;

/**
 * The properties whose values decide which beans exist, as the build saw them: what the
 * conditions of Spring Boot's auto-configurations read ({@code @ConditionalOnProperty}
 * and the conditions that read one property, such as the management port or virtual
 * threads), with the build's value of each and the conditions on it. A jar that starts
 * from Spring AOT's generated bean definitions has those conditions decided at build
 * time; {@link FrozenPropertiesWarning} says when a value now would decide one otherwise.
 *
 * @param properties each property with its build value and the conditions that read it
 * @author graceful-sequence contributors
 */
record FrozenProperties(Map<String, Frozen> properties) {

	/**
	 * Where the build keeps them in the jar.
	 */
	static final String LOCATION = "META-INF/graceful-sequence/frozen-properties.properties";

	private static final String VALUE = "value.";

	private static final String CONDITIONS = "conditions.";

	private static final String MANAGEMENT_CONTEXT_CONFIGURATION = "org.springframework.boot.actuate.autoconfigure.web.ManagementContextConfiguration";

	// Conditions that read one fixed property each; where they read it in ways other
	// than equality with a value, any change may decide them otherwise
	private static final Map<String, Map<String, Condition>> FIXED = Map.of(
			"org.springframework.boot.actuate.autoconfigure.web.server.ConditionalOnManagementPort",
			Map.of("management.server.port", Condition.ANY_CHANGE),
			"org.springframework.boot.autoconfigure.condition.ConditionalOnThreading",
			Map.of("spring.threads.virtual.enabled", new Condition("true", false)),
			"org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication",
			Map.of("spring.main.web-application-type", Condition.ANY_CHANGE),
			"org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint",
			Map.of("management.endpoints.web.exposure.include", Condition.ANY_CHANGE,
					"management.endpoints.web.exposure.exclude", Condition.ANY_CHANGE,
					"management.endpoints.access.default", Condition.ANY_CHANGE));

	// Conditions that read a property named after their value, and a default for all
	private static final Map<String, List<String>> NAMED = Map.of(
			"org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator",
			List.of("management.health.%s.enabled", "management.health.defaults.enabled"),
			"org.springframework.boot.micrometer.metrics.autoconfigure.export.ConditionalOnEnabledMetricsExport",
			List.of("management.%s.metrics.export.enabled", "management.defaults.metrics.export.enabled"),
			"org.springframework.boot.actuate.autoconfigure.info.ConditionalOnEnabledInfoContributor",
			List.of("management.info.%s.enabled", "management.info.defaults.enabled"));

	private static final String ON_PROPERTY = "org.springframework.boot.autoconfigure.condition.ConditionalOnProperty";

	private static final String ON_BOOLEAN_PROPERTY = "org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty";

	FrozenProperties {
		properties = Collections.unmodifiableMap(new TreeMap<>(properties));
	}

	/**
	 * The properties that the conditions of every auto-configuration on the class path
	 * read, with their values in the given environment.
	 * @param classLoader the class loader that sees the auto-configurations
	 * @param environment the environment of the build
	 * @return the properties
	 */
	static FrozenProperties of(ClassLoader classLoader, Environment environment) {
		Map<String, Set<Condition>> conditions = conditions(classLoader);
		Map<String, Frozen> properties = new TreeMap<>();
		conditions.forEach((name, on) -> properties.put(name, new Frozen(value(environment, name), List.copyOf(on))));
		return new FrozenProperties(properties);
	}

	/**
	 * The properties that the conditions of the auto-configurations read, and how.
	 * @param classLoader the class loader that sees the auto-configurations
	 * @return the conditions, by property name
	 */
	static Map<String, Set<Condition>> conditions(ClassLoader classLoader) {
		MetadataReaderFactory readers = new CachingMetadataReaderFactory(classLoader);
		Map<String, Set<Condition>> conditions = new TreeMap<>();
		List<String> candidates = new ArrayList<>();
		ImportCandidates.load(AutoConfiguration.class, classLoader).forEach(candidates::add);
		try {
			ImportCandidates.load(Class.forName(MANAGEMENT_CONTEXT_CONFIGURATION, false, classLoader), classLoader)
				.forEach(candidates::add);
		}
		catch (ClassNotFoundException ex) {
			// No actuator, no management context
		}
		Set<String> visited = new HashSet<>();
		for (String candidate : candidates) {
			collect(readers, candidate, conditions, visited);
		}
		return conditions;
	}

	// The class, its nested classes and the configurations it imports
	private static void collect(MetadataReaderFactory readers, String className, Map<String, Set<Condition>> conditions,
			Set<String> visited) {
		if (!visited.add(className)) {
			return;
		}
		MetadataReader reader;
		try {
			reader = readers.getMetadataReader(className);
		}
		catch (IOException ex) {
			// Listed but not on the class path: it cannot take part either way
			return;
		}
		AnnotationMetadata metadata = reader.getAnnotationMetadata();
		collect(metadata.getAnnotations(), conditions);
		for (MethodMetadata method : metadata.getAnnotatedMethods(Bean.class.getName())) {
			collect(method.getAnnotations(), conditions);
		}
		for (String member : metadata.getMemberClassNames()) {
			collect(readers, member, conditions, visited);
		}
		metadata.getAnnotations()
			.stream(Import.class)
			.flatMap((imported) -> Stream.of(imported.getStringArray(MergedAnnotation.VALUE)))
			.forEach((imported) -> collect(readers, imported, conditions, visited));
	}

	private static void collect(MergedAnnotations annotations, Map<String, Set<Condition>> conditions) {
		annotations.stream(ON_PROPERTY).forEach((condition) -> {
			Condition on = new Condition(condition.getString("havingValue"), condition.getBoolean("matchIfMissing"));
			names(condition).forEach((name) -> add(conditions, name, on));
		});
		annotations.stream(ON_BOOLEAN_PROPERTY).forEach((condition) -> {
			Condition on = new Condition(Boolean.toString(condition.getBoolean("havingValue")),
					condition.getBoolean("matchIfMissing"));
			names(condition).forEach((name) -> add(conditions, name, on));
		});
		FIXED.forEach((type, properties) -> {
			if (annotations.isPresent(type)) {
				properties.forEach((name, condition) -> add(conditions, name, condition));
			}
		});
		NAMED.forEach((type, patterns) -> annotations.stream(type)
			.map((condition) -> condition.getValue(MergedAnnotation.VALUE, String.class).orElse(""))
			.filter((value) -> !value.isEmpty())
			.forEach((value) -> patterns
				.forEach((pattern) -> add(conditions, String.format(pattern, value), Condition.ANY_CHANGE))));
	}

	private static List<String> names(MergedAnnotation<?> condition) {
		String prefix = condition.getString("prefix");
		String[] names = condition.getStringArray("name");
		if (names.length == 0) {
			names = condition.getStringArray("value");
		}
		List<String> result = new ArrayList<>();
		for (String name : names) {
			result.add((prefix.isEmpty() || prefix.endsWith(".")) ? prefix + name : prefix + "." + name);
		}
		return result;
	}

	private static void add(Map<String, Set<Condition>> conditions, String name, Condition condition) {
		conditions.computeIfAbsent(name, (key) -> new TreeSet<>()).add(condition);
	}

	/**
	 * The properties whose value in the given environment would decide a condition
	 * otherwise than the build's value did.
	 * @param environment the environment of this run
	 * @return the changes, by property name
	 */
	List<Change> changes(Environment environment) {
		List<Change> changes = new ArrayList<>();
		this.properties.forEach((name, frozen) -> {
			String now = value(environment, name);
			if (frozen.conditions().stream().anyMatch((condition) -> condition.decidesOtherwise(frozen.built(), now))) {
				changes.add(new Change(name, frozen.built(), now));
			}
		});
		return changes;
	}

	private static @Nullable String value(Environment environment, String name) {
		try {
			return environment.getProperty(name);
		}
		catch (IllegalArgumentException ex) {
			// An unresolvable placeholder: not the value the build resolved
			return ex.getMessage();
		}
	}

	/**
	 * As a properties file.
	 * @return the text
	 */
	String toText() {
		Properties text = new Properties();
		this.properties.forEach((name, frozen) -> {
			if (frozen.built() != null) {
				text.setProperty(VALUE + name, frozen.built());
			}
			text.setProperty(CONDITIONS + name,
					frozen.conditions().stream().map(Condition::toText).collect(Collectors.joining(";")));
		});
		StringWriter writer = new StringWriter();
		try {
			text.store(writer, null);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		// Without the date that Properties writes, so that the jar stays reproducible
		return writer.toString()
			.lines()
			.filter((line) -> !line.startsWith("#"))
			.sorted()
			.collect(Collectors.joining("\n", "", "\n"));
	}

	/**
	 * Read what the build kept, if it kept anything.
	 * @param classLoader the class loader of the application
	 * @return the properties, or {@code null} if the jar holds none
	 */
	static @Nullable FrozenProperties load(ClassLoader classLoader) {
		Resource resource = new ClassPathResource(LOCATION, classLoader);
		if (!resource.exists()) {
			return null;
		}
		try {
			return parse(resource.getContentAsString(StandardCharsets.ISO_8859_1));
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Cannot read " + LOCATION, ex);
		}
	}

	static FrozenProperties parse(String content) {
		Properties text = new Properties();
		try {
			text.load(new StringReader(content));
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		Map<String, Frozen> properties = new TreeMap<>();
		for (String key : text.stringPropertyNames()) {
			if (key.startsWith(CONDITIONS)) {
				String name = key.substring(CONDITIONS.length());
				List<Condition> conditions = Stream.of(text.getProperty(key).split(";"))
					.map(Condition::fromText)
					.toList();
				properties.put(name, new Frozen(text.getProperty(VALUE + name), conditions));
			}
		}
		return new FrozenProperties(properties);
	}

	/**
	 * A property as the build saw it.
	 *
	 * @param built its value at build time, or {@code null} if unset
	 * @param conditions the conditions that read it
	 */
	record Frozen(@Nullable String built, List<Condition> conditions) {

	}

	/**
	 * How a condition reads a property: as {@code @ConditionalOnProperty} does, or, where
	 * it reads it otherwise, any change may decide it otherwise.
	 *
	 * @param havingValue the value it expects; empty: any value but {@code false}
	 * @param matchIfMissing whether it matches when the property is unset
	 * @param anyChange whether any change of the value may decide it otherwise
	 */
	record Condition(String havingValue, boolean matchIfMissing, boolean anyChange) implements Comparable<Condition> {

		static final Condition ANY_CHANGE = new Condition("", false, true);

		Condition(String havingValue, boolean matchIfMissing) {
			this(havingValue, matchIfMissing, false);
		}

		boolean decidesOtherwise(@Nullable String built, @Nullable String now) {
			return this.anyChange ? !Objects.equals(built, now) : matches(built) != matches(now);
		}

		// As Spring Boot's OnPropertyCondition
		private boolean matches(@Nullable String value) {
			if (value == null) {
				return this.matchIfMissing;
			}
			return this.havingValue.isEmpty() ? !"false".equalsIgnoreCase(value)
					: this.havingValue.equalsIgnoreCase(value);
		}

		String toText() {
			return this.anyChange ? "*" : this.havingValue + "|" + this.matchIfMissing;
		}

		static Condition fromText(String text) {
			if (text.equals("*")) {
				return ANY_CHANGE;
			}
			int separator = text.lastIndexOf('|');
			return new Condition(text.substring(0, separator), Boolean.parseBoolean(text.substring(separator + 1)));
		}

		@Override
		public int compareTo(Condition other) {
			return toText().compareTo(other.toText());
		}

	}

	/**
	 * A property whose value now would decide a condition otherwise than the build's.
	 *
	 * @param name the property
	 * @param built its value at build time, or {@code null} if unset
	 * @param now its value now, or {@code null} if unset
	 */
	record Change(String name, @Nullable String built, @Nullable String now) {

	}

}

package com.example.gracefulsequence.aot;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.jspecify.annotations.Nullable;

import org.springframework.core.env.Environment;
import org.springframework.core.io.ClassPathResource;
import org.springframework.core.io.Resource;

/**
 * The properties whose values decide which beans exist, as the build saw them: what the
 * {@link AutoConfigurationConditions conditions of the auto-configurations} read, with
 * the build's value of each and the conditions on it. A jar that starts from Spring AOT's
 * generated bean definitions has those conditions decided at build time;
 * {@link FrozenPropertiesWarning} says when a value now would decide one otherwise.
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
		Map<String, Set<PropertyCondition>> conditions = AutoConfigurationConditions.read(classLoader);
		Map<String, Frozen> properties = new TreeMap<>();
		conditions.forEach((name, on) -> properties.put(name, new Frozen(value(environment, name), List.copyOf(on))));
		return new FrozenProperties(properties);
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
					frozen.conditions().stream().map(PropertyCondition::toText).collect(Collectors.joining(";")));
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
				List<PropertyCondition> conditions = Stream.of(text.getProperty(key).split(";"))
					.map(PropertyCondition::fromText)
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
	record Frozen(@Nullable String built, List<PropertyCondition> conditions) {

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

package com.example.gracefulsequence.aot;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.context.annotation.ImportCandidates;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.core.annotation.MergedAnnotation;
import org.springframework.core.annotation.MergedAnnotations;
import org.springframework.core.type.AnnotationMetadata;
import org.springframework.core.type.MethodMetadata;
import org.springframework.core.type.classreading.CachingMetadataReaderFactory;
import org.springframework.core.type.classreading.MetadataReader;
import org.springframework.core.type.classreading.MetadataReaderFactory;

/**
 * Which properties the conditions of the auto-configurations on the class path read, and
 * how: {@code @ConditionalOnProperty}, {@code @ConditionalOnBooleanProperty}, and the
 * conditions that read one property each (the management port, virtual threads, the web
 * application type, exposed endpoints, health indicators, info contributors, metrics
 * exports), on the auto-configurations, their nested classes and the configurations they
 * import, read from their class files without loading them.
 *
 * @author graceful-sequence contributors
 */
final class AutoConfigurationConditions {

	private static final String MANAGEMENT_CONTEXT_CONFIGURATION = "org.springframework.boot.actuate.autoconfigure.web.ManagementContextConfiguration";

	private static final String ON_PROPERTY = "org.springframework.boot.autoconfigure.condition.ConditionalOnProperty";

	private static final String ON_BOOLEAN_PROPERTY = "org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty";

	// Conditions that read one fixed property each; where they read it in ways other
	// than equality with a value, any change may decide them otherwise
	private static final Map<String, Map<String, PropertyCondition>> FIXED = Map.of(
			"org.springframework.boot.actuate.autoconfigure.web.server.ConditionalOnManagementPort",
			Map.of("management.server.port", PropertyCondition.ANY_CHANGE),
			"org.springframework.boot.autoconfigure.condition.ConditionalOnThreading",
			Map.of("spring.threads.virtual.enabled", new PropertyCondition("true", false)),
			"org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication",
			Map.of("spring.main.web-application-type", PropertyCondition.ANY_CHANGE),
			"org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint",
			Map.of("management.endpoints.web.exposure.include", PropertyCondition.ANY_CHANGE,
					"management.endpoints.web.exposure.exclude", PropertyCondition.ANY_CHANGE,
					"management.endpoints.access.default", PropertyCondition.ANY_CHANGE));

	// Conditions that read a property named after their value, and a default for all
	private static final Map<String, List<String>> NAMED = Map.of(
			"org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator",
			List.of("management.health.%s.enabled", "management.health.defaults.enabled"),
			"org.springframework.boot.micrometer.metrics.autoconfigure.export.ConditionalOnEnabledMetricsExport",
			List.of("management.%s.metrics.export.enabled", "management.defaults.metrics.export.enabled"),
			"org.springframework.boot.actuate.autoconfigure.info.ConditionalOnEnabledInfoContributor",
			List.of("management.info.%s.enabled", "management.info.defaults.enabled"));

	/**
	 * The properties that the conditions of the auto-configurations read, and how.
	 * @param classLoader the class loader that sees the auto-configurations
	 * @return the conditions, by property name
	 */
	static Map<String, Set<PropertyCondition>> read(ClassLoader classLoader) {
		MetadataReaderFactory readers = new CachingMetadataReaderFactory(classLoader);
		Map<String, Set<PropertyCondition>> conditions = new TreeMap<>();
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
	private static void collect(MetadataReaderFactory readers, String className,
			Map<String, Set<PropertyCondition>> conditions, Set<String> visited) {
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

	private static void collect(MergedAnnotations annotations, Map<String, Set<PropertyCondition>> conditions) {
		annotations.stream(ON_PROPERTY).forEach((condition) -> {
			PropertyCondition on = new PropertyCondition(condition.getString("havingValue"),
					condition.getBoolean("matchIfMissing"));
			names(condition).forEach((name) -> add(conditions, name, on));
		});
		annotations.stream(ON_BOOLEAN_PROPERTY).forEach((condition) -> {
			PropertyCondition on = new PropertyCondition(Boolean.toString(condition.getBoolean("havingValue")),
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
				.forEach((pattern) -> add(conditions, String.format(pattern, value), PropertyCondition.ANY_CHANGE))));
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

	private static void add(Map<String, Set<PropertyCondition>> conditions, String name, PropertyCondition condition) {
		conditions.computeIfAbsent(name, (key) -> new TreeSet<>()).add(condition);
	}

	private AutoConfigurationConditions() {
	}

}

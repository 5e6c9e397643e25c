package com.example.gracefulsequence.aot;

import java.util.List;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.aot.AotDetector;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * When the application starts from Spring AOT's generated bean definitions, warns about
 * each property that decides which beans exist and was set to another value than the
 * build's: it has no effect, and the operator who set it should hear so, with the way
 * out.
 *
 * @author graceful-sequence contributors
 */
@Component
final class FrozenPropertiesWarning {

	private static final Logger logger = LoggerFactory.getLogger(FrozenPropertiesWarning.class);

	FrozenPropertiesWarning(Environment environment) {
		FrozenProperties frozen = AotDetector.useGeneratedArtifacts()
				? FrozenProperties.load(FrozenPropertiesWarning.class.getClassLoader()) : null;
		if (frozen != null) {
			warn(frozen.changes(environment));
		}
	}

	void warn(List<FrozenProperties.Change> changes) {
		for (FrozenProperties.Change change : changes) {
			logger.warn("Property {} is {} but was {} when the jar was built, which decided the beans this run starts "
					+ "from (Spring AOT), so it has no effect; start with -Dspring.aot.enabled=false to apply it",
					change.name(), describe(change.now()), describe(change.built()));
		}
	}

	private static String describe(@Nullable String value) {
		return (value != null) ? "'" + value + "'" : "unset";
	}

}

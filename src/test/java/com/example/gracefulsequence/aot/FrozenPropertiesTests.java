package com.example.gracefulsequence.aot;

import java.util.List;
import java.util.Map;
import java.util.Set;

import com.example.gracefulsequence.aot.FrozenProperties.Change;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.mock.env.MockEnvironment;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link FrozenProperties}, {@link AutoConfigurationConditions},
 * {@link PropertyCondition} and {@link FrozenPropertiesWarning}: which properties the
 * build fixes, and which values at run time would have decided otherwise.
 *
 * @author graceful-sequence contributors
 */
@ExtendWith(OutputCaptureExtension.class)
class FrozenPropertiesTests {

	private static final MockEnvironment build = new MockEnvironment()
		.withProperty("management.endpoint.health.probes.enabled", "true");

	private static final FrozenProperties frozen = FrozenProperties.of(FrozenPropertiesTests.class.getClassLoader(),
			build);

	@Test
	void theConditionsOfTheAutoConfigurationsReadTheseProperties() {
		Map<String, Set<PropertyCondition>> conditions = AutoConfigurationConditions
			.read(FrozenPropertiesTests.class.getClassLoader());
		assertThat(conditions).containsKeys("management.server.port", "spring.threads.virtual.enabled",
				"management.endpoint.health.probes.enabled", "server.forward-headers-strategy",
				"management.endpoints.web.exposure.include", "spring.mvc.problemdetails.enabled",
				"management.health.diskspace.enabled", "management.prometheus.metrics.export.enabled",
				// On configurations that auto-configurations import
				"spring.task.execution.propagate-context", "spring.http.converters.preferred-json-mapper");
		assertThat(conditions).as("applied to Tomcat at run time, from the bound ServerProperties")
			.doesNotContainKeys("server.http2.enabled", "server.port", "sequence.period");
	}

	@Test
	void aValueThatWouldDecideAConditionOtherwiseIsAChange() {
		assertThat(changes("management.endpoint.health.probes.enabled", "false"))
			.containsExactly(new Change("management.endpoint.health.probes.enabled", "true", "false"));
		assertThat(changes("management.server.port", "9000")).extracting(Change::name)
			.containsExactly("management.server.port");
		assertThat(changes("spring.threads.virtual.enabled", "true")).extracting(Change::name)
			.containsExactly("spring.threads.virtual.enabled");
		assertThat(changes("server.forward-headers-strategy", "framework")).extracting(Change::name)
			.containsExactly("server.forward-headers-strategy");
	}

	@Test
	void aValueThatDecidesEveryConditionAsTheBuildsDidIsNot() {
		assertThat(changes("management.endpoint.health.probes.enabled", "TRUE")).isEmpty();
		assertThat(changes("spring.threads.virtual.enabled", "false")).isEmpty();
		// Tomcat's RemoteIpValve, configured at run time; only "framework" adds a filter
		assertThat(changes("server.forward-headers-strategy", "native")).isEmpty();
		assertThat(changes("server.http2.enabled", "true")).isEmpty();
	}

	@Test
	void whatTheBuildKeepsReadsBackTheSame() {
		FrozenProperties read = FrozenProperties.parse(frozen.toText());
		assertThat(read).isEqualTo(frozen);
		assertThat(read.properties().get("management.endpoint.health.probes.enabled").built()).isEqualTo("true");
		assertThat(read.properties().get("management.server.port").built()).isNull();
		assertThat(frozen.toText()).doesNotContain("#");
	}

	@Test
	void eachChangeIsAWarningNamingThePropertyAndTheWayOut(CapturedOutput output) {
		new FrozenPropertiesWarning(new MockEnvironment())
			.warn(List.of(new Change("management.server.port", null, "9000")));
		assertThat(output).contains("WARN")
			.contains("Property management.server.port is '9000' but was unset when the jar was built")
			.contains("-Dspring.aot.enabled=false");
	}

	@Test
	void withoutSpringAotNothingIsSaid(CapturedOutput output) {
		new FrozenPropertiesWarning(new MockEnvironment().withProperty("management.server.port", "9000"));
		assertThat(output).doesNotContain("Property management.server.port");
	}

	private static List<Change> changes(String name, String value) {
		MockEnvironment now = new MockEnvironment().withProperty("management.endpoint.health.probes.enabled", "true")
			.withProperty(name, value);
		return frozen.changes(now);
	}

}

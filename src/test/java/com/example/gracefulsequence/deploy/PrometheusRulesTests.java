package com.example.gracefulsequence.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.example.gracefulsequence.ClusterSeries;
import com.example.gracefulsequence.Meters;
import com.example.gracefulsequence.Programs;
import com.example.gracefulsequence.TemporaryStateFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.representer.Representer;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The alert rules of {@code deploy/prometheus/} and their {@code PrometheusRule} twin in
 * {@code deploy/kubernetes/monitoring/}: the same groups in both, every alert the issue
 * of watching the service asks for, each with a duration, a severity and what to do, only
 * meters the application exposes (in local mode, or cluster mode's of
 * {@link ClusterSeries}); and, where {@code promtool} is installed, both files pass
 * {@code promtool check rules} and the unit tests pass {@code promtool test rules}.
 *
 * @author graceful-sequence contributors
 */
@TemporaryStateFile
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
@AutoConfigureRestTestClient
class PrometheusRulesTests {

	static final Path RULES = Path.of("deploy", "prometheus", "graceful-sequence-rules.yml");

	static final Path RULES_TESTS = Path.of("deploy", "prometheus", "graceful-sequence-rules.test.yml");

	static final Path PROMETHEUS_RULE = Path.of("deploy", "kubernetes", "monitoring", "prometheusrule.yaml");

	private static final String INSTALL = ".ci/install-prometheus.sh";

	private static final Duration PROMTOOL_TIMEOUT = Duration.ofMinutes(1);

	// Alerts on a cluster as a whole (summed by job): their summary names the job, as no
	// instance is their subject
	private static final Set<String> PER_CLUSTER = Set.of("GracefulSequenceNoLeader", "GracefulSequenceTwoLeaders",
			"GracefulSequenceCommitsStalled", "GracefulSequenceRedisFailover");

	@TempDir
	Path temp;

	@Test
	void thePrometheusRuleHoldsTheSameGroupsAsTheRulesFile() throws IOException {
		Map<String, Object> prometheusRule = yaml(PROMETHEUS_RULE);
		assertThat(prometheusRule).containsEntry("apiVersion", "monitoring.coreos.com/v1")
			.containsEntry("kind", "PrometheusRule");
		assertThat(prometheusRule.get("spec")).isEqualTo(yaml(RULES));
	}

	@Test
	void everyAlertSaysHowLongWhatSeverityAndWhatToDo() throws IOException {
		List<Map<String, Object>> alerts = alerts();
		assertThat(alerts).extracting((alert) -> alert.get("alert"))
			.contains("GracefulSequenceProducerStopped", "GracefulSequenceStateFileWritesFailing",
					"GracefulSequenceStateFileUnhealthy", "GracefulSequenceSubscribersNearCap",
					"GracefulSequenceNotReady", "GracefulSequenceRedisUnreachable")
			.containsAll(PER_CLUSTER)
			.doesNotHaveDuplicates();
		assertThat(alerts).allSatisfy((alert) -> {
			assertThat(alert.get("for")).as("for: of %s", alert.get("alert")).isNotNull();
			assertThat(map(alert.get("labels")).get("severity")).isIn("critical", "warning");
			Map<String, Object> annotations = map(alert.get("annotations"));
			assertThat((String) annotations.get("summary")).as("summary of %s", alert.get("alert"))
				.contains(PER_CLUSTER.contains(alert.get("alert")) ? "{{ $labels.job }}" : "{{ $labels.instance }}");
			assertThat((String) annotations.get("description")).isNotBlank();
		});
	}

	@Test
	void everyAlertReadsOnlyMetersTheApplicationExposes(@Autowired RestTestClient client) throws IOException {
		String exposition = Meters.scrape(client);
		assertThat(exposition).as("local mode's /actuator/prometheus").doesNotContain(ClusterSeries.PREFIX);
		assertThat(alerts()).allSatisfy(
				(alert) -> assertThat(PromQl.metricNames((String) alert.get("expr"))).as("%s", alert.get("alert"))
					.isNotEmpty()
					.allSatisfy((name) -> {
						if (ClusterSeries.isClusterOnly(name)) {
							assertThat(ClusterSeries.NAMES).as("cluster mode's series").contains(name);
						}
						else {
							assertThat(name.equals("up") || exposition.contains("\n" + name + "{"))
								.as("%s in /actuator/prometheus", name)
								.isTrue();
						}
					}));
	}

	@Test
	void promtoolAcceptsTheRulesFileAndThePrometheusRulesGroups() throws IOException, InterruptedException {
		Path promtool = promtool("the rules are not checked with promtool check rules");
		Path extracted = this.temp.resolve("prometheusrule-groups.yml");
		Files.writeString(extracted, dump(yaml(PROMETHEUS_RULE).get("spec")));
		for (Path file : List.of(RULES, extracted)) {
			Programs.Result result = Programs.run(PROMTOOL_TIMEOUT, promtool.toString(), "check", "rules",
					file.toString());
			assertThat(result.exitValue()).as(result.output()).isZero();
			assertThat(result.output()).contains("SUCCESS: " + alerts().size() + " rules found");
		}
	}

	@Test
	void promtoolUnitTestsOfTheRulesPass() throws IOException, InterruptedException {
		Path promtool = promtool("the alert rules are not unit-tested with promtool test rules");
		Programs.Result result = Programs.run(PROMTOOL_TIMEOUT, promtool.toString(), "test", "rules",
				RULES_TESTS.toString());
		assertThat(result.exitValue()).as(result.output()).isZero();
		assertThat(result.output()).contains("SUCCESS");
	}

	static Path promtool(String unchecked) {
		return Programs.require("promtool", INSTALL, unchecked);
	}

	@SuppressWarnings("unchecked")
	static List<Map<String, Object>> alerts() throws IOException {
		return ((List<Map<String, Object>>) yaml(RULES).get("groups")).stream()
			.flatMap((group) -> ((List<Map<String, Object>>) group.get("rules")).stream())
			.filter((rule) -> rule.containsKey("alert"))
			.toList();
	}

	static Map<String, Object> yaml(Path file) throws IOException {
		return new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file));
	}

	private static String dump(Object document) {
		DumperOptions options = new DumperOptions();
		options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
		return new Yaml(new Representer(options), options).dump(document);
	}

	@SuppressWarnings("unchecked")
	private static Map<String, Object> map(Object value) {
		return (Map<String, Object>) value;
	}

}

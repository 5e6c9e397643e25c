package com.example.gracefulsequence.deploy;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.example.gracefulsequence.Programs;
import com.example.gracefulsequence.ServiceProcess;
import com.example.gracefulsequence.StreamConnection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Every query that the project ships, run against a real Prometheus (Debian's
 * {@code prometheus}, started on a free port with its own storage) that scraped the
 * packaged service every second while it served a stream, long-polls and errors and then
 * shut down with a drain delay: each query of the Grafana dashboard, each alert
 * expression (with its comparisons as {@code bool}, so that it answers whether or not it
 * fires) and each PromQL example of {@code docs/operations.md} parses and returns series,
 * evaluated at a moment when a scrape had seen the shutdown's first steps; a query over
 * cluster mode's series ({@link PromQl#readsClusterSeries}), which a scrape of local mode
 * cannot have, only has to parse and evaluate here. The rules load and evaluate without
 * error, and {@code promtool check metrics} finds nothing in the live exposition that
 * {@code docs/operations.md} does not list. Without {@code prometheus}, skipped with one
 * line naming {@code .ci/install-prometheus.sh}; failed where {@code CI} is set.
 *
 * @author graceful-sequence contributors
 */
class PrometheusIT {

	private static final Path OPERATIONS = Path.of("docs", "operations.md");

	private static final Duration SCRAPED = Duration.ofSeconds(30);

	@TempDir
	Path directory;

	@Test
	void everyShippedQueryReturnsSeriesFromAPrometheusThatScrapedTheService() throws Exception {
		Path prometheus = Programs.require("prometheus", ".ci/install-prometheus.sh",
				"the dashboard's, the alerts' and the docs' queries are not run against a real Prometheus");
		Path promtool = PrometheusRulesTests.promtool("the live exposition is not checked with promtool");
		Files.createDirectories(this.directory.resolve("service"));
		try (ServiceProcess service = ServiceProcess.start(this.directory.resolve("service"), "--sequence.period=500ms",
				"--shutdown.drain-delay=8s");
				PrometheusServer server = PrometheusServer.start(prometheus, this.directory.resolve("prometheus"),
						service.port(), List.of(PrometheusRulesTests.RULES))) {
			service.awaitReady();
			server.awaitTargetUp(SCRAPED);
			checkMetrics(promtool, service);
			try (StreamConnection stream = StreamConnection.open(service.port(), "/sequence/stream",
					StreamConnection.EVENT_STREAM)) {
				assertThat(stream.status()).isEqualTo(200);
				drive(service);
				awaitValue(server, "sum(sequence_subscribers{kind=\"stream\"})", 1);
				// Enough scrapes since the errors and the collection for a rate over them
				awaitValue(server, "count_over_time(http_server_requests_seconds_count{status=\"404\"}[1m])", 3);
				awaitValue(server, "min(count_over_time(jvm_gc_pause_seconds_count[1m]))", 3);
				service.sigterm();
				// A scrape during the drain delay: readiness down, the stream told to go
				String seen = awaitValue(server, "shutdown_phase_seconds_count{phase=\"streams\"}", 1);
				Map<String, String> queries = queries();
				List<String> failures = new ArrayList<>();
				List<String> ofCluster = new ArrayList<>();
				queries.forEach((name, query) -> {
					try {
						JsonNode result = server.query(query, seen).path("result");
						// Cluster mode's series are not in a scrape of local mode: such a
						// query only has to be accepted here, and the cluster tests check
						// ClusterSeries against a scrape of an instance in cluster mode
						if (PromQl.readsClusterSeries(query)) {
							ofCluster.add(name);
						}
						else if (result.isEmpty()) {
							failures.add(name + ": no series for " + query);
						}
					}
					catch (AssertionError ex) {
						failures.add(name + ": " + ex.getMessage());
					}
				});
				assertThat(failures)
					.as("of %s queries, with no series asked of these over cluster mode's: %s", queries.size(),
							ofCluster)
					.isEmpty();
				assertThat(server.query("sequence_ready", seen).path("result").get(0).path("value").get(1).asString())
					.as("readiness, as scraped during the drain delay")
					.isEqualTo("0");
			}
			assertThat(service.awaitExit(Duration.ofSeconds(60))).isEqualTo(143);
			assertRulesEvaluateWithoutError(server);
		}
	}

	// Every meter gets data: values, a long-poll answered and one that times out, the
	// hot path and the path through Spring MVC, errors
	private static void drive(ServiceProcess service) throws Exception {
		HttpClient client = service.httpClient();
		CompletableFuture<HttpResponse<String>> longPoll = client.sendAsync(
				HttpRequest.newBuilder(service.uri("/sequence/next?timeout=10s")).build(),
				HttpResponse.BodyHandlers.ofString());
		for (int i = 0; i < 200; i++) {
			assertThat(service.status("/sequence/last")).isEqualTo(200);
			assertThat(service.status("/sequence/last?i=" + i)).isEqualTo(200);
		}
		assertThat(service.status("/sequence/next?timeout=1ms")).isIn(200, 204);
		assertThat(service.status("/sequence/next?timeout=abc")).isEqualTo(400);
		assertThat(service.status("/nope")).isEqualTo(404);
		assertThat(longPoll.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
		// A collection, which a service this idle may not need for minutes: the GC meters
		// appear with the first one
		Programs.Result gc = Programs.run(Duration.ofSeconds(60),
				Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(), Long.toString(service.pid()),
				"GC.run");
		assertThat(gc.exitValue()).as(gc.output()).isZero();
	}

	// Waits until a query answers at least the given value; returns when it did
	private static String awaitValue(PrometheusServer server, String query, double atLeast) {
		String[] time = new String[1];
		await(query + " >= " + atLeast).atMost(SCRAPED).pollInterval(Duration.ofMillis(200)).until(() -> {
			JsonNode result = server.query(query).path("result");
			if (result.isEmpty() || result.get(0).path("value").get(1).asDouble() < atLeast) {
				return false;
			}
			time[0] = result.get(0).path("value").get(0).asString();
			return true;
		});
		return time[0];
	}

	private static Map<String, String> queries() throws IOException {
		Map<String, String> queries = new LinkedHashMap<>();
		GrafanaDashboard dashboard = GrafanaDashboard.read();
		dashboard.panels()
			.forEach((panel) -> panel.path("targets")
				.forEach((target) -> queries.put(
						"dashboard '" + panel.path("title").asString() + "' " + target.path("refId").asString(),
						GrafanaDashboard.evaluable(target.path("expr").asString()))));
		for (Map<String, Object> alert : PrometheusRulesTests.alerts()) {
			queries.put("alert " + alert.get("alert"), PromQl.withBoolComparisons((String) alert.get("expr")));
		}
		List<String> examples = OperationsPromQl.examples(OPERATIONS);
		assertThat(examples).as("PromQL examples in " + OPERATIONS).isNotEmpty();
		for (int i = 0; i < examples.size(); i++) {
			queries.put(OPERATIONS + " example " + (i + 1), examples.get(i));
		}
		return queries;
	}

	private static void checkMetrics(Path promtool, ServiceProcess service) throws Exception {
		HttpResponse<String> scrape = service.httpClient()
			.send(HttpRequest.newBuilder(service.uri("/actuator/prometheus")).build(),
					HttpResponse.BodyHandlers.ofString());
		assertThat(scrape.statusCode()).isEqualTo(200);
		Process check = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectErrorStream(true).start();
		try {
			check.getOutputStream().write(scrape.body().getBytes(StandardCharsets.UTF_8));
			check.getOutputStream().close();
			String output = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
			assertThat(check.waitFor(60, TimeUnit.SECONDS)).isTrue();
			String operations = Files.readString(OPERATIONS);
			List<String> findings = output.lines().filter((line) -> !line.isBlank()).toList();
			assertThat(findings).as("promtool check metrics findings that " + OPERATIONS + " does not list")
				.allSatisfy((finding) -> assertThat(operations).contains(finding.strip()));
		}
		finally {
			check.destroyForcibly();
		}
	}

	private static void assertRulesEvaluateWithoutError(PrometheusServer server) throws IOException {
		JsonNode groups = server.api("/api/v1/rules").path("groups");
		List<JsonNode> rules = new ArrayList<>();
		groups.forEach((group) -> group.path("rules").forEach(rules::add));
		assertThat(rules).hasSize(PrometheusRulesTests.alerts().size())
			.allSatisfy((rule) -> assertThat(rule.path("health").asString())
				.as(rule.path("name").asString() + ": " + rule.path("lastError"))
				.isEqualTo("ok"));
	}

}

package com.example.gracefulsequence.deploy;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import com.example.gracefulsequence.ClusterSeries;
import com.example.gracefulsequence.Meters;
import com.example.gracefulsequence.TemporaryStateFile;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The Grafana dashboard of {@code deploy/grafana/}, read as Grafana imports it (Grafana
 * itself is not installed here): a data source variable that every panel and query uses,
 * no instance written into a query, the panels an operator needs, cluster mode's under a
 * row of their own, and queries of meters that the application exposes only (in local
 * mode, or cluster mode's of {@link ClusterSeries}). {@code PrometheusIT} evaluates the
 * queries.
 *
 * @author graceful-sequence contributors
 */
@TemporaryStateFile
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
@AutoConfigureRestTestClient
class GrafanaDashboardTests {

	private static final String DATASOURCE = "${datasource}";

	private static final List<String> CLUSTER_PANELS = List.of("Leader", "Leads taken, handed over and lost",
			"Redis errors and reachability", "Delay behind the leader", "Values produced and received",
			"Replicas that hold the leader's latest value", "Commit stalls and Redis failovers");

	private final GrafanaDashboard dashboard;

	GrafanaDashboardTests() throws IOException {
		this.dashboard = GrafanaDashboard.read();
	}

	@Test
	void theDataSourceIsAVariableThatEveryPanelAndQueryUses() {
		List<JsonNode> variables = variables();
		assertThat(variables).anySatisfy((variable) -> {
			assertThat(variable.path("name").asString()).isEqualTo("datasource");
			assertThat(variable.path("type").asString()).isEqualTo("datasource");
			assertThat(variable.path("query").asString()).isEqualTo("prometheus");
		});
		assertThat(this.dashboard.panels()).isNotEmpty().allSatisfy((panel) -> {
			assertThat(panel.path("datasource").path("uid").asString()).as(panel.path("title").asString())
				.isEqualTo(DATASOURCE);
			assertThat(panel.path("targets")).isNotEmpty()
				.allSatisfy(
						(target) -> assertThat(target.path("datasource").path("uid").asString()).isEqualTo(DATASOURCE));
		});
		assertThat(variables).filteredOn((variable) -> variable.path("type").asString().equals("query"))
			.allSatisfy(
					(variable) -> assertThat(variable.path("datasource").path("uid").asString()).isEqualTo(DATASOURCE));
		assertThat(this.dashboard.root().has("__inputs")).as("no data source to pick at import").isFalse();
	}

	@Test
	void noInstanceIsWrittenIntoAQuery() {
		assertThat(variables()).anySatisfy((variable) -> {
			assertThat(variable.path("name").asString()).isEqualTo("instance");
			assertThat(variable.path("includeAll").asBoolean()).isTrue();
		});
		assertThat(this.dashboard.queries()).isNotEmpty()
			.allSatisfy((query) -> assertThat(query).contains("instance=~\"$instance\"")
				.doesNotContain("instance=\"")
				.doesNotContain(":3333"));
	}

	@Test
	void thePanelsShowWhatAnOperatorWatches() {
		assertThat(this.dashboard.panels()).extracting((panel) -> panel.path("title").asString())
			.contains("Values per minute", "Latest value", "Ready", "Subscribers by kind, against the cap",
					"State-file writes by outcome", "Requests by endpoint", "Errors by endpoint", "Latency by endpoint",
					"Shutdown steps that can be scraped", "JVM memory", "GC pauses")
			.containsAll(CLUSTER_PANELS)
			.doesNotHaveDuplicates();
		assertThat(Stream.concat(this.dashboard.panels().stream(), this.dashboard.rows().stream()))
			.extracting((panel) -> panel.path("id").asInt())
			.doesNotHaveDuplicates();
		assertThat(this.dashboard.panels()).allSatisfy((panel) -> {
			assertThat(panel.path("gridPos").path("w").asInt()).isPositive();
			assertThat(panel.path("description").asString()).isNotBlank();
		});
		JsonNode shutdown = this.dashboard.panels()
			.stream()
			.filter((panel) -> panel.path("title").asString().startsWith("Shutdown"))
			.findFirst()
			.orElseThrow();
		assertThat(shutdown.path("description").asString()).as("which steps a scrape cannot see, and why")
			.contains("Steps 4 to 7 cannot be scraped")
			.contains("drain delay");
	}

	@Test
	void thePanelsOfClusterModeAreTheOnesUnderItsRowAndReadItsSeries() {
		JsonNode row = this.dashboard.rows()
			.stream()
			.filter((candidate) -> candidate.path("title").asString().startsWith("Cluster mode"))
			.findFirst()
			.orElseThrow();
		assertThat(row.path("collapsed").asBoolean()).as("a collapsed row hides its panels in its own list").isFalse();
		int top = row.path("gridPos").path("y").asInt();
		List<JsonNode> clusterPanels = this.dashboard.panels()
			.stream()
			.filter((panel) -> CLUSTER_PANELS.contains(panel.path("title").asString()))
			.toList();
		assertThat(clusterPanels).hasSameSizeAs(CLUSTER_PANELS)
			.allSatisfy((panel) -> assertThat(panel.path("gridPos").path("y").asInt())
				.as("%s below the row", panel.path("title").asString())
				.isGreaterThan(top));
		assertThat(this.dashboard.panels()).filteredOn((panel) -> panel.path("gridPos").path("y").asInt() > top)
			.containsExactlyInAnyOrderElementsOf(clusterPanels)
			.allSatisfy((panel) -> assertThat(panel.path("targets")).as(panel.path("title").asString())
				.anySatisfy(
						(target) -> assertThat(PromQl.readsClusterSeries(target.path("expr").asString())).isTrue()));
		assertThat(this.dashboard.panels()).filteredOn((panel) -> panel.path("gridPos").path("y").asInt() < top)
			.allSatisfy((panel) -> assertThat(panel.path("targets")).as(panel.path("title").asString())
				.allSatisfy(
						(target) -> assertThat(PromQl.readsClusterSeries(target.path("expr").asString())).isFalse()));
	}

	@Test
	void everyQueryReadsOnlyMetersTheApplicationExposes(@Autowired RestTestClient client) {
		// Requests so that the request timer has series, and a collection so that the GC
		// timer has, as they have on a service that has run for a while
		client.get().uri("/sequence/next?timeout=1ms").exchange();
		client.get().uri("/nope").exchange();
		System.gc();
		await().atMost(Duration.ofSeconds(10))
			.until(() -> Meters.scrape(client).contains("\njvm_gc_pause_seconds_count{"));
		String exposition = Meters.scrape(client);
		assertThat(exposition).as("local mode's /actuator/prometheus").doesNotContain(ClusterSeries.PREFIX);
		assertThat(this.dashboard.queries())
			.allSatisfy((query) -> assertThat(PromQl.metricNames(query)).isNotEmpty().allSatisfy((name) -> {
				if (ClusterSeries.isClusterOnly(name)) {
					assertThat(ClusterSeries.NAMES).as("cluster mode's series").contains(name);
				}
				else {
					assertThat(exposition).as("%s in /actuator/prometheus", name).contains("\n" + name + "{");
				}
			}));
	}

	private List<JsonNode> variables() {
		List<JsonNode> variables = new ArrayList<>();
		this.dashboard.root().path("templating").path("list").forEach(variables::add);
		return variables;
	}

}

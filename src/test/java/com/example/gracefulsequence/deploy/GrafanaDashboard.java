package com.example.gracefulsequence.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code deploy/grafana/graceful-sequence.json} as tests read it: its rows, its panels,
 * their queries, and those queries as Prometheus can evaluate them, with Grafana's
 * variables replaced.
 *
 * @param root the dashboard's JSON
 * @author graceful-sequence contributors
 */
record GrafanaDashboard(JsonNode root) {

	static final Path FILE = Path.of("deploy", "grafana", "graceful-sequence.json");

	static GrafanaDashboard read() throws IOException {
		return new GrafanaDashboard(JsonMapper.builder().build().readTree(Files.readString(FILE)));
	}

	/**
	 * The panels that show data, in the order of the file, without the rows that head
	 * them.
	 * @return the panels
	 */
	List<JsonNode> panels() {
		List<JsonNode> panels = new ArrayList<>();
		this.root.path("panels").forEach((panel) -> {
			if (!isRow(panel)) {
				panels.add(panel);
			}
		});
		return panels;
	}

	/**
	 * The rows, each the heading of the panels below it up to the next row.
	 * @return the rows
	 */
	List<JsonNode> rows() {
		List<JsonNode> rows = new ArrayList<>();
		this.root.path("panels").forEach((panel) -> {
			if (isRow(panel)) {
				rows.add(panel);
			}
		});
		return rows;
	}

	List<String> queries() {
		List<String> queries = new ArrayList<>();
		panels()
			.forEach((panel) -> panel.path("targets").forEach((target) -> queries.add(target.path("expr").asString())));
		return queries;
	}

	private static boolean isRow(JsonNode panel) {
		return panel.path("type").asString().equals("row");
	}

	/**
	 * A query as Grafana sends it with every instance selected and a rate interval of a
	 * minute.
	 * @param query the query of a panel
	 * @return the query Prometheus evaluates
	 */
	static String evaluable(String query) {
		return query.replace("$__rate_interval", "1m").replace("$instance", ".*");
	}

}

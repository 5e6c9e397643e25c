package com.example.gracefulsequence.deploy;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import com.example.gracefulsequence.FreePort;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.awaitility.Awaitility.await;

/**
 * A Prometheus server of its own for a test: Debian's {@code prometheus} on a free
 * loopback port, with its own configuration and storage in a temporary directory,
 * scraping one target every second and loading given rule files; never the system's
 * instance on port 9090. Closing it ends the process it started, by its handle.
 *
 * @author graceful-sequence contributors
 */
final class PrometheusServer extends ExternalProcess {

	static final String JOB = "graceful-sequence";

	private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);

	private static final JsonMapper json = JsonMapper.builder().build();

	private final HttpClient httpClient = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

	private PrometheusServer(Process process, int port, Path log) {
		super(process, port, log);
	}

	/**
	 * Start a server that scrapes the service on the given port.
	 * @param executable the {@code prometheus} program
	 * @param directory where its configuration, storage and log go
	 * @param targetPort the port of the service to scrape, on loopback
	 * @param ruleFiles rule files to load
	 * @return the server, ready to answer queries
	 * @throws IOException if it cannot be started
	 */
	static PrometheusServer start(Path executable, Path directory, int targetPort, List<Path> ruleFiles)
			throws IOException {
		Files.createDirectories(directory);
		StringBuilder config = new StringBuilder();
		config.append("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n");
		config.append("rule_files:\n");
		for (Path ruleFile : ruleFiles) {
			config.append("  - \"").append(ruleFile.toAbsolutePath()).append("\"\n");
		}
		config.append("scrape_configs:\n  - job_name: ").append(JOB).append('\n');
		config.append("    metrics_path: /actuator/prometheus\n");
		config.append("    static_configs:\n      - targets: [\"127.0.0.1:").append(targetPort).append("\"]\n");
		Path configFile = Files.writeString(directory.resolve("prometheus.yml"), config);
		int port = FreePort.find();
		Path log = directory.resolve("prometheus.log");
		Process process = new ProcessBuilder(executable.toString(), "--config.file=" + configFile,
				"--storage.tsdb.path=" + directory.resolve("data"), "--web.listen-address=127.0.0.1:" + port,
				"--log.level=warn")
			.directory(directory.toFile())
			.redirectErrorStream(true)
			.redirectOutput(log.toFile())
			.start();
		PrometheusServer server = new PrometheusServer(process, port, log);
		try {
			await("prometheus on port " + port + " ready").atMost(STARTUP_TIMEOUT)
				.pollInterval(Duration.ofMillis(200))
				.failFast("prometheus exited:\n" + server.output(), () -> !process.isAlive())
				.until(() -> server.status("/-/ready") == 200);
		}
		catch (RuntimeException | Error ex) {
			server.close();
			throw ex;
		}
		return server;
	}

	/**
	 * Wait until the target's last scrape succeeded.
	 * @param timeout how long to wait at most
	 */
	void awaitTargetUp(Duration timeout) {
		await("the scrape target up").atMost(timeout)
			.pollInterval(Duration.ofMillis(200))
			.until(() -> !query("up{job=\"" + JOB + "\"} == 1").path("result").isEmpty());
	}

	/**
	 * Evaluate an instant query now.
	 * @param query the PromQL expression
	 * @return the {@code data} of a successful answer
	 */
	JsonNode query(String query) {
		return api("/api/v1/query?query=" + encode(query));
	}

	/**
	 * Evaluate an instant query at a given time.
	 * @param query the PromQL expression
	 * @param time the evaluation time, in seconds since the epoch
	 * @return the {@code data} of a successful answer
	 */
	JsonNode query(String query, String time) {
		return api("/api/v1/query?query=" + encode(query) + "&time=" + encode(time));
	}

	/**
	 * A successful answer of the HTTP API.
	 * @param path the path and query
	 * @return its {@code data}
	 * @throws AssertionError if the answer is an error, with what Prometheus said
	 */
	JsonNode api(String path) {
		HttpResponse<String> response;
		try {
			response = this.httpClient.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port() + path))
				.timeout(Duration.ofSeconds(10))
				.build(), HttpResponse.BodyHandlers.ofString());
		}
		catch (IOException ex) {
			throw new AssertionError("GET " + path + " failed", ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new AssertionError("Interrupted", ex);
		}
		JsonNode body = json.readTree(response.body());
		if (response.statusCode() != 200 || !"success".equals(body.path("status").asString())) {
			throw new AssertionError("GET " + path + ": " + response.statusCode() + " "
					+ body.path("errorType").asString() + ": " + body.path("error").asString());
		}
		return body.path("data");
	}

	private int status(String path) {
		try {
			return this.httpClient
				.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port() + path))
					.timeout(Duration.ofSeconds(2))
					.build(), HttpResponse.BodyHandlers.discarding())
				.statusCode();
		}
		catch (IOException ex) {
			return -1;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return -1;
		}
	}

	private static String encode(String value) {
		return URLEncoder.encode(value, StandardCharsets.UTF_8);
	}

}

package com.example.gracefulsequence.deploy;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.example.gracefulsequence.FreePort;
import com.example.gracefulsequence.TemporaryStateFile;
import com.example.gracefulsequence.deploy.NginxConfig.Directive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.tomcat.TomcatWebServer;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Reads {@code deploy/nginx/nginx.conf} and checks it against the application: kept-alive
 * HTTP/1.1 connections to the instances that nginx closes before the service would,
 * streams unbuffered, a read timeout above the heartbeat and the longest long-poll,
 * failover for GETs within bounds; and, where nginx is installed, that nginx accepts the
 * file.
 *
 * @author graceful-sequence contributors
 */
@TemporaryStateFile
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
@AutoConfigureRestTestClient
class NginxConfigTests {

	private static final String UPSTREAM = "graceful-sequence";

	private static final String STREAM = "/sequence/stream";

	// nginx's defaults where the file sets nothing
	private static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(60);

	private static final Duration DEFAULT_UPSTREAM_KEEPALIVE_TIMEOUT = Duration.ofSeconds(60);

	private final Directive http;

	private final Directive upstream;

	private final Directive server;

	NginxConfigTests() throws IOException {
		this.http = NginxConfig.read(NginxProcess.CONFIG).main().block("http");
		this.upstream = this.http.block("upstream", UPSTREAM);
		this.server = this.http.block("server");
	}

	@Test
	void idleConnectionsToAnInstanceAreClosedByNginxWellBeforeTheInstanceClosesThem(
			@Autowired WebServerApplicationContext context) {
		assertThat(this.upstream.value("keepalive")).as("idle connections to the instances are kept")
			.hasValueSatisfying((keepalive) -> assertThat(Integer.parseInt(keepalive.get(0))).isPositive());
		Duration nginx = this.upstream.value("keepalive_timeout")
			.map((line) -> NginxConfig.time(line.get(0)))
			.orElse(DEFAULT_UPSTREAM_KEEPALIVE_TIMEOUT);
		Object tomcat = ((TomcatWebServer) context.getWebServer()).getTomcat()
			.getConnector()
			.getProperty("keepAliveTimeout");
		Duration service = Duration.ofMillis(((Number) tomcat).longValue());
		assertThat(nginx).as("nginx's upstream keepalive_timeout against the service's keep-alive timeout %s", service)
			.isLessThanOrEqualTo(service.dividedBy(2));
	}

	@Test
	void everyLocationSpeaksKeptAliveHttp11ToTheInstances() {
		assertThat(locations()).allSatisfy((location) -> {
			assertThat(location.value("proxy_pass")).hasValue(List.of("http://" + UPSTREAM));
			assertThat(location.effective("proxy_http_version", this.server, this.http)).hasValue(List.of("1.1"));
			assertThat(headers(location)).as("the client's Connection header is not passed on")
				.contains(List.of("Connection", ""));
		});
	}

	@Test
	void streamsAreNotBufferedByTheFileNorByTheServicesHeader(@Autowired RestTestClient client) {
		Directive stream = location(STREAM);
		assertThat(stream.effective("proxy_buffering", this.server, this.http)).hasValue(List.of("off"));
		assertThat(stream.effective("proxy_ignore_headers", this.server, this.http)).isEmpty();
		client.get()
			.uri(STREAM + "?count=1")
			.header("Accept", "text/event-stream")
			.exchange()
			.expectStatus()
			.isOk()
			.expectHeader()
			.valueEquals("X-Accel-Buffering", "no");
	}

	@Test
	void readTimeoutOutlastsTheHeartbeatAndTheLongestLongPollTheApplicationAccepts(@Autowired RestTestClient client) {
		Duration heartbeat = ApplicationSettings.defaults().sequence().stream().heartbeat();
		assertThat(heartbeat).as("sequence.stream.heartbeat is on by default").isPositive();
		assertThat(locations()).allSatisfy((location) -> {
			Duration read = readTimeout(location);
			assertThat(read).as("proxy_read_timeout against the heartbeat").isGreaterThan(heartbeat);
			ProxyTimeouts.aLongPollThatOutlastsItIsRefused(client, read);
		});
		assertThat(this.server.effective("proxy_connect_timeout", this.http)).isPresent();
		assertThat(this.server.effective("client_header_timeout", this.http)).isPresent();
	}

	@Test
	void aGetThatMeetsALeavingInstanceIsPassedOnToTheOtherWithinBounds() {
		assertThat(locations()).allSatisfy((location) -> {
			List<String> conditions = location.effective("proxy_next_upstream", this.server, this.http).orElseThrow();
			assertThat(conditions).contains("error", "timeout", "http_503").doesNotContain("non_idempotent", "off");
			int tries = Integer
				.parseInt(location.effective("proxy_next_upstream_tries", this.server, this.http).orElseThrow().get(0));
			assertThat(tries).as("proxy_next_upstream_tries: bounded, and more than one")
				.isBetween(2, this.upstream.all("server").size());
			Duration within = NginxConfig
				.time(location.effective("proxy_next_upstream_timeout", this.server, this.http).orElseThrow().get(0));
			assertThat(within).as("proxy_next_upstream_timeout: bounded, and a timed-out long-poll is not retried")
				.isPositive()
				.isLessThan(readTimeout(location));
		});
	}

	@Test
	void upstreamServersAreTheInstancesThatTheHeaderStartsInClusterModeAndNginxListensOnTheServicesPort() {
		List<Integer> ports = this.upstream.all("server").stream().map((server) -> {
			String address = server.arguments().get(0);
			return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
		}).toList();
		assertThat(ports).hasSize(3);
		ApplicationSettings.assertExampleCluster(NginxProcess.CONFIG, ports);
		assertThat(this.server.value("listen"))
			.hasValue(List.of(Integer.toString(ApplicationSettings.defaults().serverPort())));
	}

	@Test
	void limitsRequestsAndStreamsPerClientAddressAndAnswersAStreamPastTheBoundAsTheServiceDoes() throws IOException {
		Map<String, String> zones = new LinkedHashMap<>();
		this.http.all("limit_conn_zone")
			.stream()
			.filter((zone) -> zone.arguments().get(0).equals("$binary_remote_addr"))
			.forEach((zone) -> zones.put(zone.arguments().get(1).replaceFirst("^zone=", "").replaceFirst(":.*$", ""),
					zone.arguments().get(1)));
		Map<String, Integer> server = limits(this.server);
		Map<String, Integer> stream = limits(location(STREAM));
		assertThat(server).as("a bound on the requests of one address, for every location").hasSize(1);
		assertThat(zones).as("zones keyed by the client's address")
			.containsKeys(server.keySet().toArray(String[]::new));
		assertThat(stream).as("the stream location repeats the server's bound (it inherits none) and adds its own")
			.containsAllEntriesOf(server)
			.hasSize(2);
		String streamZone = stream.keySet()
			.stream()
			.filter((zone) -> !server.containsKey(zone))
			.findFirst()
			.orElseThrow();
		assertThat(zones).containsKey(streamZone);
		assertThat(server.values()).as("sized for a few dozen users behind one address")
			.allSatisfy((limit) -> assertThat(limit).isBetween(50, 1000));
		assertThat(stream.get(streamZone)).as("a few tabs each for a few dozen users behind one address")
			.isBetween(10, 500);
		// nginx's own refusal, which proxy_next_upstream never passes to the other
		// instance
		assertThat(this.server.effective("limit_conn_status", this.http)).hasValue(List.of("429"));
		busyAnswer(errorPages(location(STREAM)).get(429));
		Map<String, String> systemd = SystemdUnit
			.environmentFile(Path.of("deploy", "systemd", "graceful-sequence.env"));
		assertThat(ApplicationSettings.of(systemd, List.of()).sequence().maxSubscribersPerClient())
			.as("the service's own per-client limit behind this proxy (deploy/systemd), which nginx answers first")
			.isGreaterThan(stream.get(streamZone));
	}

	@Test
	void slowRequestHeadsAndIdleClientsAreCutByNginxAndTheClientsAddressIsForwarded(
			@Autowired WebServerApplicationContext context) {
		Duration service = Duration.ofMillis(((Number) ((TomcatWebServer) context.getWebServer()).getTomcat()
			.getConnector()
			.getProperty("connectionTimeout")).longValue());
		assertThat(
				this.server.effective("client_header_timeout", this.http).map((line) -> NginxConfig.time(line.get(0))))
			.as("a deadline for the whole request head (nginx's default: 60 s), no longer than the service's gap between reads")
			.hasValueSatisfying((timeout) -> assertThat(timeout).isLessThanOrEqualTo(service));
		assertThat(this.server.effective("keepalive_timeout", this.http)).isPresent();
		assertThat(locations()).allSatisfy((location) -> assertThat(headers(location))
			.contains(List.of("X-Forwarded-For", "$proxy_add_x_forwarded_for")));
	}

	@Test
	void nginxsOwnErrorsAreProblemsThatSayWhenToRetryAndCloseTheConnection() {
		Map<Integer, List<String>> pages = errorPages(this.server);
		int limit = Integer.parseInt(this.server.effective("limit_conn_status", this.http).orElseThrow().get(0));
		List<Integer> transientErrors = List.of(limit, 500, 502, 503, 504);
		assertThat(pages).as("the per-address bound, the instances' absence and a request nginx cannot read")
			.containsKeys(transientErrors.toArray(Integer[]::new))
			.containsKeys(400, 494);
		Map<Integer, Integer> statuses = new LinkedHashMap<>();
		pages.forEach((status, page) -> {
			// "=400": the status is replaced; no "=": the status stays nginx's own
			assertThat(page).as("error_page %d", status).hasSizeBetween(1, 2);
			statuses.put(status, (page.size() == 2) ? Integer.parseInt(page.get(0).substring(1)) : status);
		});
		assertThat(pages.values()).extracting((page) -> page.get(page.size() - 1))
			.as("one page for all of them")
			.containsOnly(pages.get(502).get(0));
		Directive problem = this.server.block("location", "=", pages.get(502).get(0));
		assertThat(problem.value("internal")).as("not a path a client can ask for").isPresent();
		assertThat(problem.value("default_type")).hasValue(List.of("application/problem+json"));
		assertThat(problem.value("keepalive_timeout")).as("Connection: close").hasValue(List.of("0"));
		List<String> answer = problem.value("return").orElseThrow();
		Map<String, String> bodies = statusMap(answer.get(1));
		statuses.forEach((status, sent) -> ProxyProblems.problem(bodies.get(Integer.toString(sent)), sent));
		List<String> retryAfter = problem.all("add_header")
			.stream()
			.map(Directive::arguments)
			.filter((header) -> header.get(0).equals("Retry-After"))
			.findFirst()
			.orElseThrow();
		assertThat(retryAfter).as("sent with an error status too").endsWith("always");
		Map<String, String> seconds = statusMap(retryAfter.get(1));
		assertThat(transientErrors)
			.allSatisfy((status) -> assertThat(seconds.get(Integer.toString(status))).as("Retry-After of %d", status)
				.matches("[1-9][0-9]*"));
	}

	@Test
	void aStreamThatNoInstanceAnswersGetsABusyEventFromNginxAsTheServiceAnswersOne() {
		Map<Integer, List<String>> server = errorPages(this.server);
		Map<Integer, List<String>> stream = errorPages(location(STREAM));
		assertThat(stream).as("a location with error_page of its own inherits none, so it repeats them all")
			.containsOnlyKeys(server.keySet());
		assertThat(List.of(502, 503, 504)).allSatisfy((status) -> busyAnswer(stream.get(status)));
	}

	// A page a stream is sent to: a 200 event stream with a retry and a busy event, and
	// the connection closed after it, as the service answers an EventSource it turns away
	private void busyAnswer(List<String> page) {
		assertThat(page).as("the page's 200 replaces the error status").hasSize(2).startsWith("=");
		Directive busy = this.server.block("location", page.get(1));
		assertThat(busy.value("default_type")).hasValue(List.of("text/event-stream"));
		assertThat(busy.value("keepalive_timeout")).hasValue(List.of("0"));
		List<String> answer = busy.value("return").orElseThrow();
		assertThat(answer.get(0)).isEqualTo("200");
		ProxyProblems.busyEvent(answer.get(1).replace("\\n", "\n"));
	}

	// The error_page lines of a block: for each status, what follows the statuses (an
	// optional "=" with a status, and the page)
	private static Map<Integer, List<String>> errorPages(Directive block) {
		Map<Integer, List<String>> pages = new LinkedHashMap<>();
		for (Directive line : block.all("error_page")) {
			List<String> arguments = line.arguments();
			int statuses = (int) arguments.stream().takeWhile((argument) -> argument.matches("[0-9]{3}")).count();
			List<String> page = arguments.subList(statuses, arguments.size());
			arguments.subList(0, statuses).forEach((status) -> pages.put(Integer.parseInt(status), page));
		}
		return pages;
	}

	// The entries of the "map $status" block that sets a variable
	private Map<String, String> statusMap(String variable) {
		Map<String, String> entries = new LinkedHashMap<>();
		this.http.block("map", "$status", variable)
			.children()
			.forEach((entry) -> entries.put(entry.name(), entry.arguments().get(0)));
		return entries;
	}

	// The limit_conn lines of a block: zone and number
	private static Map<String, Integer> limits(Directive block) {
		Map<String, Integer> limits = new LinkedHashMap<>();
		block.all("limit_conn")
			.forEach((line) -> limits.put(line.arguments().get(0), Integer.parseInt(line.arguments().get(1))));
		return limits;
	}

	@Test
	void nginxAcceptsTheConfiguration(@TempDir Path directory) throws Exception {
		Path nginx = NginxProcess.executable();
		String copy = NginxProcess.copy(directory, FreePort.find(), FreePort.find(), Map.of());
		NginxProcess.Result result = NginxProcess.test(nginx, directory, copy);
		assertThat(result.status()).as(result.output()).isZero();
		assertThat(result.output()).as("no warnings either")
			.contains("test is successful")
			.doesNotContain("[warn]")
			.doesNotContain("[emerg]");
	}

	// The locations of requests; not the named or internal ones, which answer for nginx
	// itself
	private List<Directive> locations() {
		List<Directive> locations = this.server.all("location")
			.stream()
			.filter((location) -> !location.arguments().get(0).startsWith("@"))
			.filter((location) -> location.value("internal").isEmpty())
			.toList();
		assertThat(locations).extracting((location) -> location.arguments().get(0)).contains("/", STREAM);
		return locations;
	}

	private Directive location(String path) {
		return this.server.block("location", path);
	}

	private Duration readTimeout(Directive location) {
		return location.effective("proxy_read_timeout", this.server, this.http)
			.map((line) -> NginxConfig.time(line.get(0)))
			.orElse(DEFAULT_READ_TIMEOUT);
	}

	// proxy_set_header is inherited only by a block that sets none of its own
	private List<List<String>> headers(Directive location) {
		for (Directive block : List.of(location, this.server, this.http)) {
			List<Directive> found = block.all("proxy_set_header");
			if (!found.isEmpty()) {
				return found.stream().map(Directive::arguments).toList();
			}
		}
		return List.of();
	}

}

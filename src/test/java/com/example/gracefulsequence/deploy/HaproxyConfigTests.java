package com.example.gracefulsequence.deploy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import com.example.gracefulsequence.TemporaryStateFile;
import com.example.gracefulsequence.deploy.HaproxyConfig.Section;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.tomcat.TomcatWebServer;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Reads {@code deploy/haproxy/haproxy.cfg} and checks it against the application: the
 * health check asks the path where readiness is served, the checks take a leaving
 * instance out of rotation well inside its drain delay, the timeouts outlast the longest
 * long-poll the application accepts; and, where HAProxy is installed, that HAProxy
 * accepts the file.
 *
 * @author graceful-sequence contributors
 */
@TemporaryStateFile
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
@AutoConfigureRestTestClient
class HaproxyConfigTests {

	private static final Path CONFIG = HaproxyProcess.CONFIG;

	private static final String BACKEND = "graceful-sequence";

	private final HaproxyConfig config;

	private final Section backend;

	HaproxyConfigTests() throws IOException {
		this.config = HaproxyConfig.read(CONFIG);
		this.backend = this.config.section("backend", BACKEND);
	}

	@Test
	void healthCheckAsksReadinessWhereTheApplicationServesItAndTakesOnly200AsUp(@Autowired RestTestClient client) {
		assertThat(this.backend.last("option", "httpchk")).isPresent();
		List<String> send = this.backend.last("http-check", "send").orElseThrow();
		assertThat(value(send, "meth")).hasValue("GET");
		assertThat(value(send, "uri")).as("readiness, which goes down at the start of a shutdown; liveness does not")
			.hasValue("/readyz");
		assertThat(this.backend.last("http-check", "expect"))
			.hasValue(List.of("http-check", "expect", "status", "200"));
		client.get().uri(value(send, "uri").orElseThrow()).exchange().expectStatus().isOk();
	}

	@Test
	void everyServerIsCheckedAndKeepsItsSessionsWhenMarkedDown() {
		assertThat(servers()).hasSizeGreaterThanOrEqualTo(2);
		assertThat(servers()).allSatisfy((server) -> {
			Map<String, String> parameters = this.config.serverParameters(this.backend, server);
			assertThat(parameters).as(String.join(" ", server)).containsKey("check").doesNotContainKey("no-check");
			assertThat(parameters.get("on-marked-down"))
				.as("in-flight requests, long-polls and streams finish on a leaving instance")
				.isNotEqualTo("shutdown-sessions");
		});
	}

	@Test
	void serversAreTheInstancesThatTheHeaderStartsInClusterMode() {
		List<Integer> ports = servers().stream().map((server) -> {
			String address = server.get(2);
			return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
		}).toList();
		assertThat(ports).hasSize(3);
		ApplicationSettings.assertExampleCluster(CONFIG, ports);
	}

	@Test
	void checksTakeALeavingInstanceOutOfRotationInTheFirstHalfOfItsDrainDelay() {
		assertThat(servers()).allSatisfy((server) -> {
			Map<String, String> parameters = this.config.serverParameters(this.backend, server);
			Duration inter = time(parameters, "inter", "2s");
			Duration fastinter = time(parameters, "fastinter", parameters.getOrDefault("inter", "2s"));
			int fall = Integer.parseInt(parameters.getOrDefault("fall", "3"));
			// The first check after SIGTERM comes within inter; each further one within
			// fastinter
			Duration markedDown = inter.plus(fastinter.multipliedBy(fall - 1));
			assertThat(drainDelays()).allSatisfy((drainDelay) -> assertThat(markedDown)
				.as("%s: marked DOWN after at most %s, drain delay %s", server.get(1), markedDown, drainDelay)
				.isLessThanOrEqualTo(drainDelay.dividedBy(2)));
		});
	}

	@Test
	void checksBringARestartedInstanceBackWithinADrainDelay() {
		assertThat(servers()).allSatisfy((server) -> {
			Map<String, String> parameters = this.config.serverParameters(this.backend, server);
			Duration downinter = time(parameters, "downinter", parameters.getOrDefault("inter", "2s"));
			Duration fastinter = time(parameters, "fastinter", parameters.getOrDefault("inter", "2s"));
			int rise = Integer.parseInt(parameters.getOrDefault("rise", "2"));
			Duration markedUp = downinter.plus(fastinter.multipliedBy(rise - 1));
			assertThat(drainDelays()).allSatisfy((drainDelay) -> assertThat(markedUp)
				.as("%s: marked UP at most %s after it is ready", server.get(1), markedUp)
				.isLessThanOrEqualTo(drainDelay));
		});
	}

	@Test
	void timeoutsOutlastTheLongestLongPollTheApplicationAccepts(@Autowired RestTestClient client) {
		Section frontend = frontend();
		Duration server = this.config.timeout(this.backend, "server").orElseThrow();
		Duration clientSide = this.config.timeout(frontend, "client").orElseThrow();
		Duration shorter = (server.compareTo(clientSide) < 0) ? server : clientSide;
		ProxyTimeouts.aLongPollThatOutlastsItIsRefused(client, shorter);
		assertThat(this.config.timeout(this.backend, "connect")).isPresent();
		assertThat(this.config.timeout(frontend, "http-request")).isPresent();
	}

	@Test
	void aRequestWhoseConnectionFailsIsRetriedOnAnotherServer() {
		assertThat(this.config.effective(this.backend, "option", "redispatch")).as("option redispatch").isPresent();
		assertThat(this.config.effective(this.backend, "retries").map((line) -> Integer.parseInt(line.get(1))))
			.hasValueSatisfying((retries) -> assertThat(retries).isPositive());
	}

	@Test
	void aGetThatMeetsAnIdleServerConnectionTheInstanceClosedIsRetriedSinceHaproxyCannotCloseItFirst() {
		// HAProxy 2.6 has no time bound on an idle server connection (the file says why),
		// so
		// the retry is what keeps the instance's keep-alive timeout from reaching a
		// client
		assertThat(this.config.effective(this.backend, "retry-on")).as("retry-on")
			.hasValueSatisfying(
					(line) -> assertThat(line.subList(1, line.size())).contains("conn-failure", "empty-response"));
		assertThat(this.backend.all("http-request", "disable-l7-retry"))
			.as("only GETs are retried after their request went out")
			.contains(List.of("http-request", "disable-l7-retry", "unless", "METH_GET"));
		assertThat(this.config.effective(this.backend, "http-reuse").map((line) -> line.get(1)))
			.as("never the first request of a client connection on an idle server connection")
			.hasValueSatisfying((reuse) -> assertThat(reuse).isIn("safe", "never"));
		assertThat(this.config.effective(this.backend, "retries").map((line) -> Integer.parseInt(line.get(1))))
			.hasValueSatisfying((retries) -> assertThat(retries).isPositive());
	}

	@Test
	void slowRequestHeadsAndIdleClientsAreCutByHaproxyAndTheClientsAddressIsForwardedAsTheOnlyOne(
			@Autowired WebServerApplicationContext context) {
		Section frontend = frontend();
		Duration service = Duration.ofMillis(((Number) ((TomcatWebServer) context.getWebServer()).getTomcat()
			.getConnector()
			.getProperty("connectionTimeout")).longValue());
		assertThat(this.config.timeout(frontend, "http-request"))
			.as("a deadline for the whole request head, no longer than the service's gap between reads %s", service)
			.hasValueSatisfying((timeout) -> assertThat(timeout).isLessThanOrEqualTo(service));
		assertThat(this.config.timeout(frontend, "http-keep-alive")).isPresent();
		assertThat(this.config.effective(frontend, "option", "forwardfor")).as("option forwardfor").isPresent();
		assertThat(frontend.all("http-request", "del-header"))
			.as("a client's own X-Forwarded-For is dropped, so that it cannot name someone else")
			.contains(List.of("http-request", "del-header", "X-Forwarded-For"));
	}

	@Test
	void limitsConnectionsPerClientAddressAnsweringPastTheBoundAndClosingAFloodUnread() {
		Section frontend = frontend();
		List<String> track = frontend.last("tcp-request", "connection", "track-sc0").orElseThrow();
		assertThat(track).as("tracked by source address").contains("src");
		assertThat(frontend.last("stick-table")).hasValueSatisfying(
				(table) -> assertThat(table).containsSubsequence("store", "conn_cur").contains("expire"));
		List<String> mark = frontend.last("tcp-request", "connection", "set-var(sess.crowded)").orElseThrow();
		assertThat(mark.subList(mark.indexOf("if"), mark.size() - 2)).containsExactly("if", "{", "sc0_conn_cur", "gt");
		String bound = mark.get(mark.size() - 2);
		assertThat(presetLimit(bound))
			.as("sized for a few dozen users behind one address, not for one machine's thousands")
			.isBetween(50, 1000);
		assertThat(frontend.all("acl", "crowded"))
			.containsExactly(List.of("acl", "crowded", "var(sess.crowded)", "-m", "bool"));
		// Past the bound a request is answered, by HAProxy: a stream with the busy event
		// first, since the deny would end an EventSource for good
		List<List<String>> rules = frontend.all("http-request");
		List<String> stream = answer(frontend, "crowded");
		assertThat(stream.subList(stream.indexOf("if"), stream.size())).containsExactly("if", "stream_request",
				"crowded");
		assertThat(value(stream, "status")).hasValue("200");
		assertThat(headers(stream)).containsEntry("Connection", "close");
		ProxyProblems.busyEvent(value(stream, "string").orElseThrow());
		List<String> deny = List.of("http-request", "deny", "deny_status", "429", "if", "crowded");
		assertThat(rules).containsSubsequence(stream, deny);
		assertThat(rules.indexOf(deny)).as("before anything else answers or tracks the request").isOne();
		// A flood, a multiple of the bound, is closed before anything is read
		List<String> reject = frontend.last("tcp-request", "connection", "reject").orElseThrow();
		assertThat(reject.subList(reject.indexOf("if"), reject.size())).hasSize(6)
			.startsWith("if", "{")
			.endsWith("ge", bound, "}");
		assertThat(reject.get(reject.indexOf("{") + 1)).as("the connections of the address, divided by a factor")
			.matches("sc0_conn_cur,div\\([2-9]\\)");
	}

	@Test
	void limitsStreamsPerClientAddressBelowTheServicesOwnLimitAndAnswersPastItAsTheServiceDoes() throws IOException {
		Section frontend = frontend();
		List<String> track = frontend.last("http-request", "track-sc1").orElseThrow();
		assertThat(track).contains("src", "table");
		String table = track.get(track.indexOf("table") + 1);
		assertThat(this.config.section("backend", table).last("stick-table")).isPresent();
		List<String> answer = answer(frontend, "sc1_trackers(" + table + ")");
		String condition = String.join(" ", answer.subList(answer.indexOf("if"), answer.size()));
		assertThat(condition).contains("sc1_trackers(" + table + ") gt");
		assertThat(String.join(" ", track.subList(track.indexOf("if"), track.size())))
			.isEqualTo(condition.substring(0, condition.indexOf(" {")));
		int streams = presetLimit(answer.get(answer.size() - 2));
		assertThat(streams).as("a few tabs each for a few dozen users behind one address").isBetween(10, 500);
		// As the service answers an EventSource it turns away: a 200 event stream with a
		// retry and a busy event, so that the EventSource tries again later
		assertThat(value(answer, "status")).hasValue("200");
		assertThat(value(answer, "content-type")).hasValue("text/event-stream");
		assertThat(headers(answer)).containsEntry("Connection", "close");
		ProxyProblems.busyEvent(value(answer, "string").orElseThrow());
		Map<String, String> systemd = SystemdUnit
			.environmentFile(Path.of("deploy", "systemd", "graceful-sequence.env"));
		assertThat(ApplicationSettings.of(systemd, List.of()).sequence().maxSubscribersPerClient())
			.as("the service's own per-client limit behind this proxy (deploy/systemd), which HAProxy answers first")
			.isGreaterThan(streams);
	}

	@ParameterizedTest
	@ValueSource(ints = { 429, 500, 502, 503, 504 })
	void haproxysOwnErrorIsAProblemThatSaysWhenToRetryAndClosesTheConnection(int status) {
		// As HAProxy looks up an error of the backend: its own lines, else the defaults'
		List<String> error = this.config.effective(this.backend, "http-error", "status", Integer.toString(status))
			.orElseThrow(() -> new AssertionError("No http-error status " + status + ": HAProxy's HTML page"));
		assertThat(value(error, "content-type")).hasValue("application/problem+json");
		assertThat(headers(error)).containsEntry("Connection", "close")
			.hasEntrySatisfying("Retry-After", (seconds) -> assertThat(Integer.parseInt(seconds)).isPositive());
		ProxyProblems.problem(value(error, "string").orElseThrow(), status);
	}

	@Test
	void aStreamWhileNoInstanceIsUpGetsABusyEventFromHaproxyAsTheServiceAnswersOne() {
		Section frontend = frontend();
		List<String> answer = answer(frontend, "nbsrv(" + BACKEND + ")");
		assertThat(answer.subList(answer.indexOf("if"), answer.size())).containsExactly("if", "stream_request", "{",
				"nbsrv(" + BACKEND + ")", "eq", "0", "}");
		assertThat(frontend.all("acl", "stream_request"))
			.containsExactly(List.of("acl", "stream_request", "path", "/sequence/stream"));
		assertThat(value(answer, "status")).hasValue("200");
		assertThat(value(answer, "content-type")).hasValue("text/event-stream");
		assertThat(headers(answer)).containsEntry("Connection", "close");
		ProxyProblems.busyEvent(value(answer, "string").orElseThrow());
	}

	@Test
	void frontendSendsHttpToTheCheckedBackend() {
		Section frontend = frontend();
		assertThat(this.config.effective(frontend, "mode")).hasValue(List.of("mode", "http"));
		assertThat(this.config.effective(this.backend, "mode")).hasValue(List.of("mode", "http"));
		assertThat(frontend.last("default_backend")).hasValue(List.of("default_backend", BACKEND));
	}

	@Test
	void haproxyAcceptsTheConfiguration() throws IOException, InterruptedException {
		Path haproxy = HaproxyProcess.executable();
		Process process = new ProcessBuilder(haproxy.toString(), "-c", "-f", CONFIG.toString())
			.redirectErrorStream(true)
			.start();
		String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
		assertThat(process.exitValue()).as(output).isZero();
		assertThat(output).as("no warnings either").doesNotContain("[WARNING]").doesNotContain("[ALERT]");
	}

	// "${NAME}" in the file, and the value the global section presets for it
	private int presetLimit(String word) {
		assertThat(word).as("a variable the benches can set").matches("\\$\\{[A-Z_]+\\}");
		String name = word.substring(2, word.length() - 1);
		List<String> preset = this.config.sections("global").get(0).last("presetenv", name).orElseThrow();
		return Integer.parseInt(preset.get(2));
	}

	// The frontend's http-request return line whose condition names the given fetch
	private static List<String> answer(Section frontend, String fetch) {
		List<List<String>> found = frontend.all("http-request", "return")
			.stream()
			.filter((line) -> line.indexOf("if") > 0 && line.subList(line.indexOf("if"), line.size()).contains(fetch))
			.toList();
		assertThat(found).as("http-request return ... if ... %s", fetch).hasSize(1);
		return found.get(0);
	}

	// The headers an http-request return or http-error line adds, by name
	private static Map<String, String> headers(List<String> line) {
		Map<String, String> headers = new LinkedHashMap<>();
		int end = (line.contains("if")) ? line.indexOf("if") : line.size();
		for (int i = line.indexOf("hdr"); i >= 0 && i + 2 < end; i = indexOf(line, "hdr", i + 3)) {
			headers.put(line.get(i + 1), line.get(i + 2));
		}
		return headers;
	}

	private static int indexOf(List<String> line, String word, int from) {
		int index = line.subList(from, line.size()).indexOf(word);
		return (index >= 0) ? from + index : -1;
	}

	private List<List<String>> servers() {
		return this.backend.all("server");
	}

	private Section frontend() {
		return this.config.sections("frontend")
			.stream()
			.filter((frontend) -> frontend.last("default_backend")
				.filter((line) -> line.get(1).equals(BACKEND))
				.isPresent())
			.findFirst()
			.orElseThrow(() -> new AssertionError("No frontend with default_backend " + BACKEND));
	}

	private static List<Duration> drainDelays() {
		List<Duration> delays = new ArrayList<>(ApplicationSettings.exampleInstances(CONFIG)
			.stream()
			.map((instance) -> instance.shutdown().drainDelay())
			.toList());
		delays.add(ApplicationSettings.SHORTEST_RECOMMENDED_DRAIN_DELAY);
		return delays;
	}

	private static Optional<String> value(List<String> line, String keyword) {
		int index = line.indexOf(keyword);
		return (index >= 0 && index + 1 < line.size()) ? Optional.of(line.get(index + 1)) : Optional.empty();
	}

	// HAProxy's defaults where a parameter is not set: inter 2s, fall 3, rise 2
	private static Duration time(Map<String, String> parameters, String name, String otherwise) {
		return HaproxyConfig.time(parameters.getOrDefault(name, otherwise));
	}

}

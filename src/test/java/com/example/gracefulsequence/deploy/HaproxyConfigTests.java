package com.example.gracefulsequence.deploy;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import com.example.gracefulsequence.TemporaryStateFile;
import com.example.gracefulsequence.deploy.HaproxyConfig.Section;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.http.HttpStatus;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

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

	private static final Path CONFIG = Path.of("deploy", "haproxy", "haproxy.cfg");

	private static final String BACKEND = "graceful-sequence";

	// Besides the wait itself: producing the answer and carrying it through HAProxy
	private static final Duration LONG_POLL_MARGIN = Duration.ofSeconds(5);

	private static final List<Path> HAPROXY_LOCATIONS = List.of(Path.of("/usr/sbin/haproxy"),
			Path.of("/usr/local/sbin/haproxy"));

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
	void serversAreTheInstancesThatTheHeaderStarts() {
		List<Integer> ports = servers().stream().map((server) -> {
			String address = server.get(2);
			return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
		}).toList();
		assertThat(ApplicationSettings.exampleInstances(CONFIG)).extracting(ApplicationSettings::serverPort)
			.containsExactlyInAnyOrderElementsOf(ports);
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
		// A long-poll that waits almost as long as HAProxy's inactivity timeouts allow is
		// refused
		client.get()
			.uri("/sequence/next?timeout={timeout}ms", shorter.minus(LONG_POLL_MARGIN).toMillis())
			.exchange()
			.expectStatus()
			.isEqualTo(HttpStatus.BAD_REQUEST)
			.expectBody()
			.jsonPath("$.parameter")
			.isEqualTo("timeout");
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
	void frontendSendsHttpToTheCheckedBackend() {
		Section frontend = frontend();
		assertThat(this.config.effective(frontend, "mode")).hasValue(List.of("mode", "http"));
		assertThat(this.config.effective(this.backend, "mode")).hasValue(List.of("mode", "http"));
		assertThat(frontend.last("default_backend")).hasValue(List.of("default_backend", BACKEND));
	}

	@Test
	void haproxyAcceptsTheConfiguration() throws IOException, InterruptedException {
		Path haproxy = haproxy().orElse(null);
		if (haproxy == null) {
			String missing = "haproxy is not installed, so " + CONFIG
					+ " is not checked with haproxy -c: run .ci/install-haproxy.sh as root (Debian package haproxy)";
			if (System.getenv("CI") != null) {
				fail(missing + "; CI is set, so this fails instead of being skipped");
			}
			Assumptions.abort(missing);
		}
		Process process = new ProcessBuilder(haproxy.toString(), "-c", "-f", CONFIG.toString())
			.redirectErrorStream(true)
			.start();
		String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
		assertThat(process.exitValue()).as(output).isZero();
		assertThat(output).as("no warnings either").doesNotContain("[WARNING]").doesNotContain("[ALERT]");
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

	private static Optional<Path> haproxy() {
		Stream<Path> onPath = Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
			.filter((directory) -> !directory.isEmpty())
			.map((directory) -> Path.of(directory, "haproxy"));
		return Stream.concat(onPath, HAPROXY_LOCATIONS.stream()).filter(Files::isExecutable).findFirst();
	}

}

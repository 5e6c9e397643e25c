package com.example.gracefulsequence.deploy;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
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
import org.springframework.http.HttpStatus;
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

	// Besides the wait itself: producing the answer and carrying it through nginx
	private static final Duration LONG_POLL_MARGIN = Duration.ofSeconds(5);

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
			// A long-poll that waits almost as long as nginx's read timeout allows is
			// refused
			client.get()
				.uri("/sequence/next?timeout={timeout}ms", read.minus(LONG_POLL_MARGIN).toMillis())
				.exchange()
				.expectStatus()
				.isEqualTo(HttpStatus.BAD_REQUEST)
				.expectBody()
				.jsonPath("$.parameter")
				.isEqualTo("timeout");
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
	void upstreamServersAreTheInstancesThatTheHeaderStartsAndNginxListensOnTheServicesPort() {
		List<Integer> ports = this.upstream.all("server").stream().map((server) -> {
			String address = server.arguments().get(0);
			return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
		}).toList();
		assertThat(ApplicationSettings.exampleInstances(NginxProcess.CONFIG))
			.extracting(ApplicationSettings::serverPort)
			.containsExactlyInAnyOrderElementsOf(ports);
		assertThat(this.server.value("listen"))
			.hasValue(List.of(Integer.toString(ApplicationSettings.defaults().serverPort())));
	}

	@Test
	void nginxAcceptsTheConfiguration(@TempDir Path directory) throws Exception {
		Path nginx = NginxProcess.executable();
		String copy = NginxProcess.copy(directory, FreePort.find(), List.of(FreePort.find(), FreePort.find()),
				Map.of());
		NginxProcess.Result result = NginxProcess.test(nginx, directory, copy);
		assertThat(result.status()).as(result.output()).isZero();
		assertThat(result.output()).as("no warnings either")
			.contains("test is successful")
			.doesNotContain("[warn]")
			.doesNotContain("[emerg]");
	}

	private List<Directive> locations() {
		List<Directive> locations = this.server.all("location");
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

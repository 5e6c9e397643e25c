package com.example.gracefulsequence;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathFactory;

import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.w3c.dom.Document;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.http.MediaType;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The actuator as an operator sees it: every meter of the contract on
 * {@code /actuator/prometheus} with the {@code application} tag, the build in
 * {@code /actuator/info}, and no endpoint beyond those the contract lists.
 *
 * @author graceful-sequence contributors
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
@AutoConfigureRestTestClient
@DirtiesContext
class ActuatorTests {

	private static final String APPLICATION = "graceful-sequence";

	private static final Pattern SAMPLE = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})?\\s+(\\S+).*");

	private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

	@TempDir
	static Path temp;

	@DynamicPropertySource
	static void properties(DynamicPropertyRegistry registry) {
		registry.add("sequence.state-file", () -> temp.resolve("last-num-from-seq.txt").toString());
		registry.add("sequence.period", () -> "100ms");
	}

	@Test
	void prometheusShowsEveryMeterOfTheContractWithTheApplicationTag(@Autowired RestTestClient client) {
		await().atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(samples(Meters.scrape(client)))
				.filteredOn((sample) -> sample.name().equals("sequence_values_total"))
				.singleElement()
				.satisfies((sample) -> assertThat(sample.value()).isGreaterThanOrEqualTo(2)));
		List<Sample> samples = samples(Meters.scrape(client));
		assertThat(samples).anySatisfy((sample) -> assertMeter(sample, "sequence_values_total", Map.of()));
		assertThat(samples).anySatisfy((sample) -> assertMeter(sample, "sequence_last", Map.of()));
		assertThat(samples)
			.anySatisfy((sample) -> assertMeter(sample, "sequence_subscribers", Map.of("kind", "stream")));
		assertThat(samples).anySatisfy((sample) -> assertMeter(sample, "sequence_subscribers", Map.of("kind", "poll")));
		assertThat(samples).anySatisfy((sample) -> {
			assertMeter(sample, "sequence_state_writes_total", Map.of("outcome", "success"));
			assertThat(sample.value()).isPositive();
		});
		assertThat(samples)
			.anySatisfy((sample) -> assertMeter(sample, "sequence_state_writes_total", Map.of("outcome", "failure")));
		assertThat(samples).anySatisfy((sample) -> {
			assertMeter(sample, "sequence_subscribers_limit", Map.of());
			assertThat(sample.value()).isPositive();
		});
		assertThat(samples).anySatisfy((sample) -> {
			assertMeter(sample, "sequence_state_healthy", Map.of());
			assertThat(sample.value()).isOne();
		});
		assertThat(samples).anySatisfy((sample) -> {
			assertMeter(sample, "sequence_ready", Map.of());
			assertThat(sample.value()).isOne();
		});
	}

	@Test
	void shutdownPhaseTimerHoldsEveryStepOnceTheContextIsClosed() {
		ConfigurableApplicationContext context = new SpringApplicationBuilder(GracefulSequenceApplication.class).run(
				"--server.port=0", "--sequence.period=100ms", "--spring.main.register-shutdown-hook=false",
				"--sequence.state-file=" + temp.resolve("closed").resolve("last-num-from-seq.txt"));
		PrometheusMeterRegistry registry = context.getBean(PrometheusMeterRegistry.class);
		context.close();
		Collection<Timer> timers = registry.find("shutdown.phase").timers();
		assertThat(timers).extracting((timer) -> timer.getId().getTag("phase"))
			.containsExactlyInAnyOrder("readiness", "handover", "streams", "drain-delay", "http-drain", "producer",
					"state-file");
		assertThat(timers).allSatisfy((timer) -> {
			assertThat(timer.getId().getTag("application")).isEqualTo(APPLICATION);
			assertThat(timer.count()).isOne();
		});
		assertThat(samples(registry.scrape()))
			.anySatisfy((sample) -> assertMeter(sample, "shutdown_phase_seconds_count", Map.of("phase", "http-drain")));
	}

	@Test
	void infoHasTheBuildVersionAndTime(@Autowired RestTestClient client) throws Exception {
		Document pom = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(Path.of("pom.xml").toFile());
		String version = XPathFactory.newInstance().newXPath().evaluate("/project/version", pom);
		assertThat(version).isNotBlank();
		client.get()
			.uri("/actuator/info")
			.exchange()
			.expectStatus()
			.isOk()
			.expectBody()
			.jsonPath("$.build.version")
			.isEqualTo(version)
			.jsonPath("$.build.time")
			.isNotEmpty()
			.jsonPath("$.git")
			.doesNotExist();
	}

	@ParameterizedTest
	@ValueSource(strings = { "/actuator/health", "/actuator/health/liveness", "/actuator/health/readiness", "/livez",
			"/readyz", "/actuator/info", "/actuator/metrics", "/actuator/metrics/sequence.values",
			"/actuator/prometheus" })
	void listedEndpointsAnswer(String path, @Autowired RestTestClient client) {
		client.get().uri(path).exchange().expectStatus().isOk();
	}

	@ParameterizedTest
	@ValueSource(strings = { "/actuator", "/actuator/env", "/actuator/beans", "/actuator/heapdump",
			"/actuator/threaddump", "/actuator/shutdown", "/actuator/loggers", "/actuator/configprops",
			"/actuator/mappings", "/actuator/conditions", "/actuator/scheduledtasks", "/actuator/startup" })
	void unlistedEndpointsAreNotFound(String path, @Autowired RestTestClient client) {
		client.get()
			.uri(path)
			.exchange()
			.expectStatus()
			.isNotFound()
			.expectHeader()
			.contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON)
			.expectBody()
			.jsonPath("$.status")
			.isEqualTo(404);
	}

	@Test
	void shutdownEndpointCannotBePosted(@Autowired RestTestClient client) {
		client.post()
			.uri("/actuator/shutdown")
			.exchange()
			.expectStatus()
			.isNotFound()
			.expectHeader()
			.contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON);
	}

	private static void assertMeter(Sample sample, String name, Map<String, String> tags) {
		assertThat(sample.name()).isEqualTo(name);
		assertThat(sample.labels()).containsAllEntriesOf(tags).containsEntry("application", APPLICATION);
	}

	private static List<Sample> samples(String exposition) {
		List<Sample> samples = new ArrayList<>();
		exposition.lines().filter((line) -> !line.isBlank() && !line.startsWith("#")).forEach((line) -> {
			Matcher sample = SAMPLE.matcher(line);
			assertThat(sample.matches()).as(line).isTrue();
			Map<String, String> labels = new LinkedHashMap<>();
			if (sample.group(2) != null) {
				Matcher label = LABEL.matcher(sample.group(2));
				while (label.find()) {
					labels.put(label.group(1), label.group(2));
				}
			}
			samples.add(new Sample(sample.group(1), labels, Double.parseDouble(sample.group(3))));
		});
		return samples;
	}

	/**
	 * One sample of the Prometheus text format.
	 *
	 * @param name the metric name
	 * @param labels the labels
	 * @param value the value
	 * @author graceful-sequence contributors
	 */
	record Sample(String name, Map<String, String> labels, double value) {

	}

}

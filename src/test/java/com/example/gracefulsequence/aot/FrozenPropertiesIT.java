package com.example.gracefulsequence.aot;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import com.example.gracefulsequence.FreePort;
import com.example.gracefulsequence.HttpConnection;
import com.example.gracefulsequence.ServiceProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The packaged jar, which starts from Spring AOT's generated bean definitions, says so
 * when a property that those definitions fixed at build time is set otherwise: one WARN
 * each, naming the property and {@code -Dspring.aot.enabled=false}; with that flag the
 * setting takes effect and nothing is said.
 *
 * @author graceful-sequence contributors
 */
class FrozenPropertiesIT {

	private static final List<String> FROZEN = List.of("management.server.port", "spring.threads.virtual.enabled",
			"management.endpoint.health.probes.enabled", "server.forward-headers-strategy");

	@TempDir
	Path directory;

	@Test
	void eachSettingThatTheBuildFixedIsAWarningNamingItAndTheWayOut() throws Exception {
		int managementPort = FreePort.find();
		try (ServiceProcess service = ServiceProcess.start(this.directory, "--management.server.port=" + managementPort,
				"--spring.threads.virtual.enabled=true", "--management.endpoint.health.probes.enabled=false",
				"--server.forward-headers-strategy=framework", "--server.http2.enabled=true")) {
			service.awaitReady();
			List<String> warnings = service.logLines()
				.stream()
				.filter((line) -> line.contains(" WARN "))
				.map(ServiceProcess::message)
				.toList();
			for (String property : FROZEN) {
				assertThat(warnings).as(property)
					.anySatisfy((warning) -> assertThat(warning).startsWith("Property " + property + " is ")
						.contains("when the jar was built")
						.contains("-Dspring.aot.enabled=false"));
			}
			assertThat(warnings).as("applied at run time").noneMatch((warning) -> warning.contains("server.http2"));
			assertThat(service.status("/actuator/prometheus")).as("still on the main port, as the build decided")
				.isEqualTo(200);
			assertThat(h2c(service.port(), "/readyz").version()).isEqualTo(HttpClient.Version.HTTP_2);
		}
	}

	@Test
	void withoutTheGeneratedBeanDefinitionsTheSettingTakesEffectAndNothingIsSaid() throws Exception {
		int managementPort = FreePort.find();
		try (ServiceProcess service = ServiceProcess.startWithJvmOptions(this.directory,
				List.of("-Dspring.aot.enabled=false"), "--management.server.port=" + managementPort,
				"--management.server.address=127.0.0.1")) {
			service.awaitReady();
			assertThat(service.messages()).noneMatch((message) -> message.startsWith("Property "));
			assertThat(HttpConnection.get(managementPort, "/actuator/health").status()).isEqualTo(200);
		}
	}

	private static HttpResponse<String> h2c(int port, String path) throws IOException, InterruptedException {
		HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
		HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
			.timeout(Duration.ofSeconds(10))
			.build();
		return client.send(request, HttpResponse.BodyHandlers.ofString());
	}

}

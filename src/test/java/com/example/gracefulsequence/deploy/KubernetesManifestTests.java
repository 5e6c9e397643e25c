package com.example.gracefulsequence.deploy;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;

import com.example.gracefulsequence.deploy.DockerfileInstructions.Instruction;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.resttestclient.autoconfigure.AutoConfigureRestTestClient;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.client.RestTestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Reads every manifest of the local variant, {@code deploy/kubernetes/}, with the fabric8
 * Kubernetes model and checks it against the application: its defaults, the paths it
 * really serves, and the user of the container image.
 *
 * @author graceful-sequence contributors
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
@AutoConfigureRestTestClient
@DirtiesContext
class KubernetesManifestTests {

	@TempDir
	static Path temp;

	private final KubernetesManifests manifests = KubernetesManifests.read(KubernetesManifests.LOCAL);

	@DynamicPropertySource
	static void stateFile(DynamicPropertyRegistry registry) {
		registry.add("sequence.state-file", () -> temp.resolve("last-num-from-seq.txt").toString());
	}

	@Test
	void everyManifestIsAKubernetesResourceOfAKnownKindWithNoFieldTheModelDoesNotKnow() {
		this.manifests.assertWellFormed();
		assertThat(all(StatefulSet.class)).hasSize(1);
		assertThat(all(PodDisruptionBudget.class)).hasSize(1);
		assertThat(all(Service.class)).isNotEmpty();
	}

	@Test
	void containerListensOnTheServerPort() {
		assertThat(container().getPorts()).singleElement()
			.satisfies((port) -> assertThat(port.getContainerPort()).isEqualTo(settings().serverPort()));
	}

	@Test
	void probesUseThePathsTheApplicationServes(@Autowired RestTestClient client) {
		Container container = container();
		assertThat(container.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/livez");
		assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
		List<Probe> probes = Stream
			.of(container.getStartupProbe(), container.getLivenessProbe(), container.getReadinessProbe())
			.filter(Objects::nonNull)
			.toList();
		assertThat(probes).allSatisfy((probe) -> {
			assertThat(port(probe.getHttpGet().getPort())).isEqualTo(settings().serverPort());
			client.get().uri(probe.getHttpGet().getPath()).exchange().expectStatus().isOk();
		});
	}

	@Test
	void drainDelayCoversTheEndpointRemovalRace() {
		assertThat(settings().shutdown().drainDelay()).isBetween(ApplicationSettings.SHORTEST_RECOMMENDED_DRAIN_DELAY,
				ApplicationSettings.LONGEST_RECOMMENDED_DRAIN_DELAY);
	}

	@Test
	void gracePeriodOutlastsTheDrainDelayTheDrainAndTheDeadline() {
		KubernetesManifests.assertGracePeriodOutlastsTheShutdown(podSpec(), settings());
	}

	@Test
	void trustsTheForwardedAddressOfThePodNetworkOnlyAndLeavesThePerClientLimitToWhoNarrowsIt() {
		ApplicationSettings settings = settings();
		assertThat(settings.forwardedAddress().trusts("10.244.3.17")).as("an ingress controller's pod").isTrue();
		assertThat(List.of("192.168.1.1", "172.16.0.1", "10.0.0.1", "127.0.0.1", "10.2440.0.1"))
			.allSatisfy((peer) -> assertThat(settings.forwardedAddress().trusts(peer))
				.as("not every private range, as Tomcat's default: %s", peer)
				.isFalse());
		assertThat(settings.sequence().maxSubscribersPerClient())
			.as("no per-client limit until internal-proxies names the ingress controller's pods only")
			.isEqualTo(ApplicationSettings.defaults().sequence().maxSubscribersPerClient());
	}

	@Test
	void stateFileIsOnTheVolumeClaimOfEachReplica() {
		Path stateFile = settings().sequence().stateFile();
		assertThat(stateFile).isAbsolute();
		KubernetesManifests.assertWritesOn(container(), KubernetesManifests.claims(statefulSet()),
				stateFile.getParent());
	}

	@Test
	void servicesSelectThePodsOnTheServerPort() {
		Map<String, String> podLabels = podLabels();
		assertThat(KubernetesManifests.matches(statefulSet().getSpec().getSelector(), podLabels)).isTrue();
		assertThat(all(Service.class)).allSatisfy((service) -> {
			assertThat(KubernetesManifests.selects(service, podLabels)).isTrue();
			assertThat(service.getSpec().getPorts()).extracting(ServicePort::getTargetPort)
				.allSatisfy((target) -> assertThat(port(target)).isEqualTo(settings().serverPort()));
		});
		assertThat(all(Service.class)).as("the governing Service of the StatefulSet, headless")
			.anySatisfy((service) -> {
				assertThat(service.getMetadata().getName()).isEqualTo(statefulSet().getSpec().getServiceName());
				assertThat(service.getSpec().getClusterIP()).isEqualTo("None");
			});
	}

	@Test
	void disruptionBudgetSelectsTheStatefulSetPodsAndAllowsADisruption() {
		PodDisruptionBudget budget = all(PodDisruptionBudget.class).get(0);
		Map<String, String> podLabels = podLabels();
		assertThat(KubernetesManifests.matches(budget.getSpec().getSelector(), podLabels)).isTrue();
		int replicas = statefulSet().getSpec().getReplicas();
		IntOrString maxUnavailable = budget.getSpec().getMaxUnavailable();
		IntOrString minAvailable = budget.getSpec().getMinAvailable();
		assertThat(maxUnavailable == null ^ minAvailable == null).as("either maxUnavailable or minAvailable").isTrue();
		if (maxUnavailable != null) {
			assertThat(maxUnavailable.getIntVal()).isPositive();
		}
		else {
			assertThat(minAvailable.getIntVal()).as("a budget that allows no disruption blocks node drains")
				.isLessThan(replicas);
		}
	}

	@Test
	void podRunsAsTheImageUserWithRequestsAndLimits() throws IOException {
		PodSpec pod = podSpec();
		Container container = container();
		assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
		Long runAsUser = Optional.ofNullable(container.getSecurityContext())
			.map((context) -> context.getRunAsUser())
			.orElse(pod.getSecurityContext().getRunAsUser());
		assertThat(runAsUser).as("the USER of the Dockerfile").isEqualTo(imageUser());
		assertThat(pod.getSecurityContext().getFsGroup()).as("fsGroup, so that the volume is writable").isNotNull();
		Map<String, Quantity> requests = container.getResources().getRequests();
		Map<String, Quantity> limits = container.getResources().getLimits();
		assertThat(requests).containsKeys("cpu", "memory");
		assertThat(limits).containsKeys("cpu", "memory");
		assertThat(Quantity.getAmountInBytes(requests.get("memory")))
			.isLessThanOrEqualTo(Quantity.getAmountInBytes(limits.get("memory")));
	}

	@Test
	void podMonitorScrapesEveryPodOnThePortAndPathWhereTheApplicationServesMetrics(@Autowired RestTestClient client)
			throws IOException {
		List<Map<String, Object>> monitoring = KubernetesManifests.readYaml(KubernetesManifests.MONITORING);
		assertThat(monitoring).allSatisfy((resource) -> assertThat(resource.get("apiVersion"))
			.as("only the Operator's kinds, which plain clusters lack, live in " + KubernetesManifests.MONITORING)
			.isEqualTo("monitoring.coreos.com/v1"));
		assertThat(monitoring).extracting((resource) -> resource.get("kind"))
			.containsExactlyInAnyOrder("PodMonitor", "PrometheusRule");
		Map<String, Object> spec = KubernetesManifests.podMonitorSpec();
		Map<String, String> podLabels = podLabels();
		LabelSelector selector = KubernetesManifests.convert(spec.get("selector"), LabelSelector.class);
		assertThat(KubernetesManifests.matches(selector, podLabels)).as("selects the pods of the StatefulSet").isTrue();
		List<Map<String, Object>> endpoints = KubernetesManifests.list(spec.get("podMetricsEndpoints"));
		assertThat(endpoints).singleElement().satisfies((endpoint) -> {
			assertThat(port(new IntOrString(endpoint.get("port")))).isEqualTo(settings().serverPort());
			String path = (String) endpoint.get("path");
			assertThat(client.get()
				.uri(path)
				.exchange()
				.expectStatus()
				.isOk()
				.expectBody(String.class)
				.returnResult()
				.getResponseBody()).contains("sequence_values_total{");
			Duration interval = Duration.parse("PT" + endpoint.get("interval"));
			assertThat(interval).as("a scrape falls inside the drain delay, so it sees the first shutdown steps")
				.isLessThan(settings().shutdown().drainDelay());
		});
	}

	private ApplicationSettings settings() {
		return KubernetesManifests.settings(container());
	}

	private int port(IntOrString port) {
		return KubernetesManifests.port(container(), port);
	}

	private StatefulSet statefulSet() {
		return this.manifests.only(StatefulSet.class);
	}

	private PodSpec podSpec() {
		return this.manifests.pods(StatefulSet.class).getSpec();
	}

	private Container container() {
		return KubernetesManifests.container(this.manifests.pods(StatefulSet.class));
	}

	private Map<String, String> podLabels() {
		return this.manifests.pods(StatefulSet.class).getMetadata().getLabels();
	}

	private <T extends HasMetadata> List<T> all(Class<T> kind) {
		return this.manifests.all(kind);
	}

	private static long imageUser() throws IOException {
		List<Instruction> users = DockerfileInstructions.read(Path.of("Dockerfile"))
			.finalStage()
			.stream()
			.filter((instruction) -> instruction.keyword().equals("USER"))
			.toList();
		return Long.parseLong(users.get(users.size() - 1).words().get(0).split(":")[0]);
	}

}

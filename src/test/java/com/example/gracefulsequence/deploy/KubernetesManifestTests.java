package com.example.gracefulsequence.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;

import com.example.gracefulsequence.deploy.DockerfileInstructions.Instruction;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

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
 * Reads every manifest under {@code deploy/kubernetes/} with the fabric8 Kubernetes model
 * and checks it against the application: its defaults, the paths it really serves, and
 * the user of the container image.
 *
 * @author graceful-sequence contributors
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT)
@AutoConfigureRestTestClient
@DirtiesContext
class KubernetesManifestTests {

	private static final Path DIRECTORY = Path.of("deploy", "kubernetes");

	// Apart, so that kubectl apply -f deploy/kubernetes/ works without the Operator
	private static final Path MONITORING = DIRECTORY.resolve("monitoring");

	// On top of the drain delay and the drain: stopping the producer and the final write
	private static final Duration MARGIN = Duration.ofSeconds(5);

	// The fabric8 model is annotated for Jackson 2
	private static final ObjectMapper objectMapper = new ObjectMapper();

	private static final List<Class<? extends HasMetadata>> KINDS = List.of(StatefulSet.class, Service.class,
			PodDisruptionBudget.class);

	@TempDir
	static Path temp;

	private final List<HasMetadata> resources = readAll();

	@DynamicPropertySource
	static void stateFile(DynamicPropertyRegistry registry) {
		registry.add("sequence.state-file", () -> temp.resolve("last-num-from-seq.txt").toString());
	}

	@Test
	void everyManifestIsAKubernetesResourceOfAKnownKind() {
		assertThat(this.resources).isNotEmpty();
		assertThat(this.resources).allSatisfy((resource) -> {
			assertThat(resource.getApiVersion()).isEqualTo(HasMetadata.getApiVersion(resource.getClass()));
			assertThat(resource.getMetadata().getName()).isNotBlank();
		});
		assertThat(all(StatefulSet.class)).hasSize(1);
		assertThat(all(PodDisruptionBudget.class)).hasSize(1);
		assertThat(all(Service.class)).isNotEmpty();
		assertThat(statefulSet().getSpec().getAdditionalProperties()).isEmpty();
		assertThat(podSpec().getAdditionalProperties()).isEmpty();
		assertThat(container().getAdditionalProperties()).isEmpty();
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
		ApplicationSettings settings = settings();
		Duration gracePeriod = Duration.ofSeconds(podSpec().getTerminationGracePeriodSeconds());
		assertThat(settings.shutdown().deadline()).as("shutdown.deadline, or the application does not start")
			.isGreaterThan(settings.drainDelayPlusTimeout());
		assertThat(gracePeriod).isGreaterThan(settings.drainDelayPlusTimeout().plus(MARGIN));
		assertThat(gracePeriod).as("the application's deadline ends a stuck shutdown before SIGKILL does")
			.isGreaterThan(settings.shutdown().deadline());
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
		List<String> claims = statefulSet().getSpec()
			.getVolumeClaimTemplates()
			.stream()
			.map(PersistentVolumeClaim::getMetadata)
			.map((metadata) -> metadata.getName())
			.toList();
		assertThat(container().getVolumeMounts()).anySatisfy((mount) -> {
			assertThat(claims).contains(mount.getName());
			assertThat(Path.of(mount.getMountPath())).isEqualTo(stateFile.getParent());
			assertThat(mount.getReadOnly()).isNotEqualTo(Boolean.TRUE);
		});
	}

	@Test
	void servicesSelectThePodsOnTheServerPort() {
		Map<String, String> podLabels = statefulSet().getSpec().getTemplate().getMetadata().getLabels();
		assertThat(matches(statefulSet().getSpec().getSelector(), podLabels)).isTrue();
		assertThat(all(Service.class)).allSatisfy((service) -> {
			assertThat(podLabels).containsAllEntriesOf(service.getSpec().getSelector());
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
		Map<String, String> podLabels = statefulSet().getSpec().getTemplate().getMetadata().getLabels();
		assertThat(matches(budget.getSpec().getSelector(), podLabels)).isTrue();
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
		List<Map<String, Object>> monitoring = readMonitoring();
		assertThat(monitoring).allSatisfy((resource) -> assertThat(resource.get("apiVersion"))
			.as("only the Operator's kinds, which plain clusters lack, live in " + MONITORING)
			.isEqualTo("monitoring.coreos.com/v1"));
		assertThat(monitoring).extracting((resource) -> resource.get("kind"))
			.containsExactlyInAnyOrder("PodMonitor", "PrometheusRule");
		Map<String, Object> spec = map(monitoring.stream()
			.filter((resource) -> resource.get("kind").equals("PodMonitor"))
			.findFirst()
			.orElseThrow()
			.get("spec"));
		Map<String, String> podLabels = statefulSet().getSpec().getTemplate().getMetadata().getLabels();
		LabelSelector selector = objectMapper.convertValue(spec.get("selector"), LabelSelector.class);
		assertThat(matches(selector, podLabels)).as("selects the pods of the StatefulSet").isTrue();
		List<Map<String, Object>> endpoints = list(spec.get("podMetricsEndpoints"));
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
		Container container = container();
		Map<String, String> environment = new LinkedHashMap<>();
		if (container.getEnv() != null) {
			container.getEnv()
				.stream()
				.filter((variable) -> variable.getValue() != null)
				.forEach((variable) -> environment.put(variable.getName(), variable.getValue()));
		}
		List<String> arguments = (container.getArgs() != null) ? container.getArgs() : List.of();
		return ApplicationSettings.of(environment, arguments);
	}

	private int port(IntOrString port) {
		if (port.getIntVal() != null) {
			return port.getIntVal();
		}
		return container().getPorts()
			.stream()
			.filter((candidate) -> port.getStrVal().equals(candidate.getName()))
			.findFirst()
			.orElseThrow(() -> new AssertionError("No container port named " + port.getStrVal()))
			.getContainerPort();
	}

	private StatefulSet statefulSet() {
		return all(StatefulSet.class).get(0);
	}

	private PodSpec podSpec() {
		return statefulSet().getSpec().getTemplate().getSpec();
	}

	private Container container() {
		List<Container> containers = podSpec().getContainers();
		assertThat(containers).hasSize(1);
		return containers.get(0);
	}

	private <T extends HasMetadata> List<T> all(Class<T> kind) {
		return this.resources.stream().filter(kind::isInstance).map(kind::cast).toList();
	}

	private static boolean matches(LabelSelector selector, Map<String, String> labels) {
		Map<String, String> matchLabels = (selector.getMatchLabels() != null) ? selector.getMatchLabels() : Map.of();
		List<LabelSelectorRequirement> expressions = (selector.getMatchExpressions() != null)
				? selector.getMatchExpressions() : List.of();
		assertThat(matchLabels.size() + expressions.size()).as("a selector that selects something").isPositive();
		return labels.entrySet().containsAll(matchLabels.entrySet())
				&& expressions.stream().allMatch((expression) -> matches(expression, labels));
	}

	private static boolean matches(LabelSelectorRequirement expression, Map<String, String> labels) {
		String value = labels.get(expression.getKey());
		return switch (expression.getOperator()) {
			case "In" -> expression.getValues().contains(value);
			case "NotIn" -> !expression.getValues().contains(value);
			case "Exists" -> value != null;
			case "DoesNotExist" -> value == null;
			default -> throw new AssertionError("Unknown operator " + expression.getOperator());
		};
	}

	private static long imageUser() throws IOException {
		List<Instruction> users = DockerfileInstructions.read(Path.of("Dockerfile"))
			.finalStage()
			.stream()
			.filter((instruction) -> instruction.keyword().equals("USER"))
			.toList();
		return Long.parseLong(users.get(users.size() - 1).words().get(0).split(":")[0]);
	}

	private static List<HasMetadata> readAll() {
		try (Stream<Path> files = Files.list(DIRECTORY)) {
			List<HasMetadata> resources = new ArrayList<>();
			for (Path file : files.filter(KubernetesManifestTests::isYaml).sorted().toList()) {
				resources.addAll(read(file));
			}
			return resources;
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	private static List<Map<String, Object>> readMonitoring() throws IOException {
		List<Map<String, Object>> resources = new ArrayList<>();
		try (Stream<Path> files = Files.list(MONITORING)) {
			for (Path file : files.filter(KubernetesManifestTests::isYaml).sorted().toList()) {
				Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
				for (Object document : yaml.loadAll(Files.readString(file))) {
					if (document != null) {
						resources.add(map(document));
					}
				}
			}
		}
		return resources;
	}

	@SuppressWarnings("unchecked")
	private static Map<String, Object> map(Object value) {
		return (Map<String, Object>) value;
	}

	@SuppressWarnings("unchecked")
	private static List<Map<String, Object>> list(Object value) {
		return (List<Map<String, Object>>) value;
	}

	private static boolean isYaml(Path file) {
		String name = file.getFileName().toString();
		return name.endsWith(".yaml") || name.endsWith(".yml");
	}

	private static List<HasMetadata> read(Path file) throws IOException {
		Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
		List<HasMetadata> resources = new ArrayList<>();
		for (Object document : yaml.loadAll(Files.readString(file))) {
			if (document == null) {
				continue;
			}
			assertThat(document).as(file.toString()).isInstanceOf(Map.class);
			Object kind = ((Map<?, ?>) document).get("kind");
			Class<? extends HasMetadata> type = KINDS.stream()
				.filter((candidate) -> HasMetadata.getKind(candidate).equals(kind))
				.findFirst()
				.orElseThrow(() -> new AssertionError(file + ": unexpected kind " + kind));
			resources.add(objectMapper.convertValue(document, type));
		}
		return resources;
	}

}

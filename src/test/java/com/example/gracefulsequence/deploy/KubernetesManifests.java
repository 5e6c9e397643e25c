package com.example.gracefulsequence.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The manifests of one folder under {@code deploy/kubernetes/}, read with the fabric8
 * Kubernetes model, and what the tests of both variants ask of them: the settings the
 * application gets from a container, its ports, which pods a selector takes, the sizing
 * of the grace period.
 *
 * @author graceful-sequence contributors
 */
final class KubernetesManifests {

	/**
	 * The local variant: one sequence per pod.
	 */
	static final Path LOCAL = Path.of("deploy", "kubernetes");

	/**
	 * The cluster variant: one sequence in Redis for every pod.
	 */
	static final Path CLUSTER = LOCAL.resolve("cluster");

	/**
	 * The Prometheus Operator's kinds, apart so that {@code kubectl apply -f} works
	 * without the Operator.
	 */
	static final Path MONITORING = LOCAL.resolve("monitoring");

	// On top of the drain delay and the drain: stopping the producer and the final write
	private static final Duration MARGIN = Duration.ofSeconds(5);

	// The fabric8 model is annotated for Jackson 2
	private static final ObjectMapper objectMapper = new ObjectMapper();

	private static final List<Class<? extends HasMetadata>> KINDS = List.of(StatefulSet.class, Deployment.class,
			Service.class, PodDisruptionBudget.class, ConfigMap.class);

	private final List<HasMetadata> resources;

	private KubernetesManifests(List<HasMetadata> resources) {
		this.resources = resources;
	}

	/**
	 * Read every YAML file of a folder, not of the folders below it (as
	 * {@code kubectl apply -f} without {@code -R}).
	 * @param directory the folder
	 * @return its resources
	 */
	static KubernetesManifests read(Path directory) {
		List<HasMetadata> resources = new ArrayList<>();
		for (Map<String, Object> document : readYaml(directory)) {
			Object kind = document.get("kind");
			Class<? extends HasMetadata> type = KINDS.stream()
				.filter((candidate) -> HasMetadata.getKind(candidate).equals(kind))
				.findFirst()
				.orElseThrow(() -> new AssertionError(directory + ": unexpected kind " + kind));
			resources.add(convert(document, type));
		}
		return new KubernetesManifests(resources);
	}

	/**
	 * Read every YAML document of a folder's files as plain maps, for kinds the fabric8
	 * model does not have.
	 * @param directory the folder
	 * @return its documents
	 */
	static List<Map<String, Object>> readYaml(Path directory) {
		List<Map<String, Object>> documents = new ArrayList<>();
		try (Stream<Path> files = Files.list(directory)) {
			for (Path file : files.filter(KubernetesManifests::isYaml).sorted().toList()) {
				Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
				for (Object document : yaml.loadAll(Files.readString(file))) {
					if (document != null) {
						assertThat(document).as(file.toString()).isInstanceOf(Map.class);
						documents.add(map(document));
					}
				}
			}
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		return documents;
	}

	/**
	 * Read a file of one YAML document as a plain map, such as a patch, which is no
	 * resource of its own.
	 * @param file the file
	 * @return its document
	 */
	static Map<String, Object> readDocument(Path file) {
		try {
			Object document = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file));
			assertThat(document).as(file.toString()).isInstanceOf(Map.class);
			return map(document);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	/**
	 * The spec of the Prometheus Operator's {@code PodMonitor} in {@link #MONITORING}.
	 * @return its spec
	 */
	static Map<String, Object> podMonitorSpec() {
		return map(readYaml(MONITORING).stream()
			.filter((resource) -> "PodMonitor".equals(resource.get("kind")))
			.findFirst()
			.orElseThrow(() -> new AssertionError("No PodMonitor in " + MONITORING))
			.get("spec"));
	}

	/**
	 * Every resource has the API version of its kind, a name, and no field the model does
	 * not know.
	 * @return these manifests
	 */
	KubernetesManifests assertWellFormed() {
		assertThat(this.resources).isNotEmpty();
		assertThat(this.resources).allSatisfy((resource) -> {
			assertThat(resource.getApiVersion()).isEqualTo(HasMetadata.getApiVersion(resource.getClass()));
			assertThat(resource.getMetadata().getName()).isNotBlank();
			assertThat(unknownFields(resource)).as("fields the model does not know").isEmpty();
		});
		return this;
	}

	List<HasMetadata> resources() {
		return this.resources;
	}

	<T extends HasMetadata> List<T> all(Class<T> kind) {
		return this.resources.stream().filter(kind::isInstance).map(kind::cast).toList();
	}

	/**
	 * The only resource of a kind.
	 * @param <T> the kind
	 * @param kind the kind
	 * @return the resource; the test fails unless there is exactly one
	 */
	<T extends HasMetadata> T only(Class<T> kind) {
		List<T> all = all(kind);
		assertThat(all).as(HasMetadata.getKind(kind)).hasSize(1);
		return all.get(0);
	}

	/**
	 * The pods of the only workload of a kind.
	 * @param kind {@link StatefulSet} or {@link Deployment}
	 * @return the workload's pod template
	 */
	PodTemplateSpec pods(Class<? extends HasMetadata> kind) {
		HasMetadata workload = only(kind);
		if (workload instanceof StatefulSet statefulSet) {
			return statefulSet.getSpec().getTemplate();
		}
		if (workload instanceof Deployment deployment) {
			return deployment.getSpec().getTemplate();
		}
		throw new IllegalArgumentException("Not a workload: " + HasMetadata.getKind(kind));
	}

	/**
	 * The only container of a pod.
	 * @param pod the pod's template
	 * @return the container; the test fails unless there is exactly one
	 */
	static Container container(PodTemplateSpec pod) {
		List<Container> containers = pod.getSpec().getContainers();
		assertThat(containers).hasSize(1);
		return containers.get(0);
	}

	/**
	 * The settings the application gets from a container: its environment variables with
	 * a value, and its arguments.
	 * @param container the application's container
	 * @return the settings
	 */
	static ApplicationSettings settings(Container container) {
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

	/**
	 * A port of a container, by number or by name.
	 * @param container the container
	 * @param port a number, or the name of one of the container's ports
	 * @return the number
	 */
	static int port(Container container, IntOrString port) {
		if (port.getIntVal() != null) {
			return port.getIntVal();
		}
		return container.getPorts()
			.stream()
			.filter((candidate) -> port.getStrVal().equals(candidate.getName()))
			.findFirst()
			.orElseThrow(() -> new AssertionError("No container port named " + port.getStrVal()))
			.getContainerPort();
	}

	/**
	 * The names of a StatefulSet's volume claims, one for each of its pods.
	 * @param statefulSet the StatefulSet
	 * @return the names of its claim templates
	 */
	static List<String> claims(StatefulSet statefulSet) {
		return statefulSet.getSpec()
			.getVolumeClaimTemplates()
			.stream()
			.map((claim) -> claim.getMetadata().getName())
			.toList();
	}

	/**
	 * A container can write at a path on one of the given volumes.
	 * @param container the container
	 * @param volumes the names of the volumes that may hold it
	 * @param path where it writes
	 */
	static void assertWritesOn(Container container, List<String> volumes, Path path) {
		assertThat(container.getVolumeMounts()).anySatisfy((mount) -> {
			assertThat(volumes).contains(mount.getName());
			assertThat(Path.of(mount.getMountPath())).isEqualTo(path);
			assertThat(mount.getReadOnly()).isNotEqualTo(Boolean.TRUE);
		});
	}

	/**
	 * The grace period is longer than the drain delay and the drain with a margin, and
	 * longer than {@code shutdown.deadline}, which is itself longer than those two.
	 * @param pod the pod
	 * @param settings the settings of its application
	 */
	static void assertGracePeriodOutlastsTheShutdown(PodSpec pod, ApplicationSettings settings) {
		Duration gracePeriod = Duration.ofSeconds(pod.getTerminationGracePeriodSeconds());
		assertThat(settings.shutdown().deadline()).as("shutdown.deadline, or the application does not start")
			.isGreaterThan(settings.drainDelayPlusTimeout());
		assertThat(gracePeriod).isGreaterThan(settings.drainDelayPlusTimeout().plus(MARGIN));
		assertThat(gracePeriod).as("the application's deadline ends a stuck shutdown before SIGKILL does")
			.isGreaterThan(settings.shutdown().deadline());
	}

	/**
	 * Whether a Service takes the pods with these labels.
	 * @param service the Service
	 * @param labels the pod's labels
	 * @return whether its selector matches them
	 */
	static boolean selects(Service service, Map<String, String> labels) {
		Map<String, String> selector = service.getSpec().getSelector();
		assertThat(selector).as("a selector that selects something").isNotEmpty();
		return labels.entrySet().containsAll(selector.entrySet());
	}

	/**
	 * Whether a workload's, a budget's or a monitor's selector takes the pods with these
	 * labels.
	 * @param selector the selector
	 * @param labels the pod's labels
	 * @return whether it matches them
	 */
	static boolean matches(LabelSelector selector, Map<String, String> labels) {
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

	/**
	 * The fields of a resource that the Kubernetes model does not know, at any depth: a
	 * misspelt or misplaced field, which the API server would reject or ignore.
	 * @param resource the resource
	 * @return the path of each, empty if there is none
	 */
	static List<String> unknownFields(HasMetadata resource) {
		List<String> unknown = new ArrayList<>();
		collectUnknownFields(resource, HasMetadata.getKind(resource.getClass()), unknown);
		return unknown;
	}

	private static void collectUnknownFields(Object model, String path, List<String> unknown) {
		if (model instanceof List<?> list) {
			for (int i = 0; i < list.size(); i++) {
				collectUnknownFields(list.get(i), path + "[" + i + "]", unknown);
			}
		}
		else if (model instanceof Map<?, ?> map) {
			map.forEach((key, value) -> collectUnknownFields(value, path + "." + key, unknown));
		}
		else if (model instanceof KubernetesResource) {
			for (Method getter : model.getClass().getMethods()) {
				if (isModelGetter(getter)) {
					Object value = invoke(getter, model);
					String field = path + "." + getter.getName().substring(3);
					if (getter.getName().equals("getAdditionalProperties")) {
						((Map<?, ?>) value).keySet().forEach((key) -> unknown.add(path + "." + key));
					}
					else {
						collectUnknownFields(value, field, unknown);
					}
				}
			}
		}
	}

	private static boolean isModelGetter(Method method) {
		return method.getName().startsWith("get") && method.getParameterCount() == 0
				&& !Modifier.isStatic(method.getModifiers())
				&& method.getDeclaringClass().getPackageName().startsWith("io.fabric8.kubernetes.api.model");
	}

	private static Object invoke(Method getter, Object model) {
		try {
			return getter.invoke(model);
		}
		catch (IllegalAccessException | InvocationTargetException ex) {
			throw new IllegalStateException("Cannot read " + getter, ex);
		}
	}

	static <T> T convert(Object value, Class<T> type) {
		return objectMapper.convertValue(value, type);
	}

	@SuppressWarnings("unchecked")
	static Map<String, Object> map(Object value) {
		return (Map<String, Object>) value;
	}

	@SuppressWarnings("unchecked")
	static List<Map<String, Object>> list(Object value) {
		return (List<Map<String, Object>>) value;
	}

	private static boolean isYaml(Path file) {
		String name = file.getFileName().toString();
		return name.endsWith(".yaml") || name.endsWith(".yml");
	}

}

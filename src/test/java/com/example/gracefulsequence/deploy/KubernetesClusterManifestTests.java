package com.example.gracefulsequence.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecretKeySelector;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.RollingUpdateDeployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Reads the cluster variant, {@code deploy/kubernetes/cluster/}, with the fabric8
 * Kubernetes model and checks it against the application's defaults, against the local
 * variant (the same probes, drain and resources, but never the same pods), its Redis
 * against {@code deploy/redis/redis.conf}, and the patch of its Deployment for a Sentinel
 * set against {@code deploy/redis/sentinel.conf}.
 *
 * @author graceful-sequence contributors
 */
class KubernetesClusterManifestTests {

	private static final Path REDIS_CONF = Path.of("deploy", "redis", "redis.conf");

	// Where the Redis pod decides for itself: other pods must reach it, on its claim
	private static final Set<String> REDIS_POD_DIRECTIVES = Set.of("protected-mode", "bind", "dir");

	private static final int REDIS_DEFAULT_PORT = 6379;

	// Not a manifest: kubectl patch applies it to deployment.yaml, for a Sentinel set
	private static final Path SENTINEL_PATCH = KubernetesManifests.CLUSTER.resolve("sentinel")
		.resolve("deployment-patch.yaml");

	// What the patch may add: where the Sentinels are, and the replicas a value waits for
	private static final String SENTINEL_PREFIX = "SPRING_DATA_REDIS_SENTINEL_";

	private static final String REPLICAS = "SEQUENCE_CLUSTER_REPLICAS";

	private final KubernetesManifests cluster = KubernetesManifests.read(KubernetesManifests.CLUSTER);

	private final KubernetesManifests local = KubernetesManifests.read(KubernetesManifests.LOCAL);

	@Test
	void everyManifestIsAKubernetesResourceOfAKnownKindWithNoFieldTheModelDoesNotKnow() {
		this.cluster.assertWellFormed();
		assertThat(this.cluster.all(Deployment.class)).as("the instances").hasSize(1);
		assertThat(this.cluster.all(StatefulSet.class)).as("Redis").hasSize(1);
		assertThat(this.cluster.all(ConfigMap.class)).as("Redis' configuration").hasSize(1);
		assertThat(this.cluster.all(PodDisruptionBudget.class)).hasSize(1);
		assertThat(this.cluster.all(Service.class)).as("the instances' and Redis'").hasSize(2);
	}

	@Test
	void instancesServeTheClusterSequenceFromTheRedisOfRedisYaml() {
		Container container = container();
		assertThat(KubernetesManifests.settings(container).sequence().cluster().enabled()).isTrue();
		assertThat(KubernetesManifests.settings(localContainer()).sequence().cluster().enabled())
			.as("the local variant")
			.isFalse();
		Service redis = service(redisPods());
		assertThat(value(container, "SPRING_DATA_REDIS_HOST")).isEqualTo(redis.getMetadata().getName());
		String port = Objects.requireNonNullElse(value(container, "SPRING_DATA_REDIS_PORT"),
				String.valueOf(REDIS_DEFAULT_PORT));
		int redisPort = redisConfig().get("port").map(Integer::parseInt).orElse(REDIS_DEFAULT_PORT);
		assertThat(redis.getSpec().getPorts()).singleElement().satisfies((servicePort) -> {
			assertThat(servicePort.getPort()).isEqualTo(Integer.parseInt(port));
			assertThat(KubernetesManifests.port(redisContainer(), servicePort.getTargetPort())).isEqualTo(redisPort);
		});
	}

	@Test
	void instancesTakeTheRedisPasswordFromTheSecretThatSetsItAndNeedNone() {
		SecretKeySelector instances = secret(container(), "SPRING_DATA_REDIS_PASSWORD");
		SecretKeySelector redis = secret(redisContainer(), "REDIS_PASSWORD");
		assertThat(instances).isEqualTo(redis);
		assertThat(instances.getOptional()).as("optional: no Secret, no password").isTrue();
		assertThat(String.join(" ", redisContainer().getCommand())).contains("--requirepass \"$REDIS_PASSWORD\"");
	}

	@Test
	void stateFileIsOnAnEmptyDirAndNoPodHasAVolumeClaim() {
		Path stateFile = KubernetesManifests.settings(container()).sequence().stateFile();
		assertThat(stateFile).isAbsolute();
		List<Volume> volumes = podSpec().getVolumes();
		assertThat(volumes).allSatisfy((volume) -> {
			assertThat(volume.getPersistentVolumeClaim()).isNull();
			assertThat(volume.getEmptyDir()).as(volume.getName()).isNotNull();
		});
		KubernetesManifests.assertWritesOn(container(), volumes.stream().map(Volume::getName).toList(),
				stateFile.getParent());
		assertThat(mountPaths(container())).as("the local StatefulSet's, /tmp included")
			.containsExactlyInAnyOrderElementsOf(mountPaths(localContainer()));
		assertThat(container().getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
	}

	@Test
	void rollingUpdateStartsANewPodBeforeAnOldOneLeaves() {
		assertThat(deployment().getSpec().getReplicas()).as("followers to hand the lease to").isGreaterThan(1);
		assertThat(deployment().getSpec().getStrategy().getType()).isEqualTo("RollingUpdate");
		RollingUpdateDeployment rollingUpdate = deployment().getSpec().getStrategy().getRollingUpdate();
		assertThat(rollingUpdate.getMaxSurge().getIntVal()).isEqualTo(1);
		assertThat(rollingUpdate.getMaxUnavailable().getIntVal()).isZero();
	}

	@Test
	void gracePeriodOutlastsTheDrainDelayTheDrainAndTheDeadline() {
		KubernetesManifests.assertGracePeriodOutlastsTheShutdown(podSpec(), KubernetesManifests.settings(container()));
	}

	@Test
	void probesResourcesSecurityAndJvmOptionsAreThoseOfTheLocalStatefulSet() {
		Container container = container();
		Container local = localContainer();
		assertThat(container.getStartupProbe().getHttpGet().getPath()).isEqualTo("/livez");
		assertThat(container.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/livez");
		assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
		// KubernetesManifestTests asks the application for the local ones
		assertThat(container.getStartupProbe()).isEqualTo(local.getStartupProbe());
		assertThat(container.getLivenessProbe()).isEqualTo(local.getLivenessProbe());
		assertThat(container.getReadinessProbe()).isEqualTo(local.getReadinessProbe());
		assertThat(container.getPorts()).isEqualTo(local.getPorts());
		assertThat(container.getImage()).isEqualTo(local.getImage());
		assertThat(container.getCommand()).as("the JVM's options").isEqualTo(local.getCommand());
		assertThat(container.getArgs()).isEqualTo(local.getArgs());
		assertThat(container.getResources()).isEqualTo(local.getResources());
		assertThat(container.getSecurityContext()).isEqualTo(local.getSecurityContext());
		assertThat(podSpec().getSecurityContext())
			.isEqualTo(this.local.pods(StatefulSet.class).getSpec().getSecurityContext());
	}

	@Test
	void drainDelayForwardedAddressAndPerClientLimitAreThoseOfTheLocalStatefulSet() {
		assertThat(container().getEnv()).as("every variable of the local StatefulSet, with its value")
			.containsAll(localContainer().getEnv());
		ApplicationSettings settings = KubernetesManifests.settings(container());
		ApplicationSettings local = KubernetesManifests.settings(localContainer());
		assertThat(settings.shutdown()).isEqualTo(local.shutdown());
		assertThat(settings.forwardedAddress()).isEqualTo(local.forwardedAddress());
		assertThat(settings.sequence().maxSubscribersPerClient()).isEqualTo(local.sequence().maxSubscribersPerClient());
	}

	@Test
	void eachVariantsServicesBudgetAndWorkloadSelectItsOwnPodsOnly() {
		Map<String, String> clusterPods = clusterPods();
		Map<String, String> localPods = localPods();
		Map<String, String> redisPods = redisPods();
		assertSelectsOnly(deployment().getSpec().getSelector(), clusterPods, localPods, redisPods);
		assertSelectsOnly(this.local.only(StatefulSet.class).getSpec().getSelector(), localPods, clusterPods);
		assertSelectsOnly(redisStatefulSet().getSpec().getSelector(), redisPods, clusterPods, localPods);
		assertSelectsOnly(this.cluster.only(PodDisruptionBudget.class).getSpec().getSelector(), clusterPods, localPods,
				redisPods);
		assertSelectsOnly(this.local.only(PodDisruptionBudget.class).getSpec().getSelector(), localPods, clusterPods);
		Service instances = service(clusterPods);
		assertThat(KubernetesManifests.selects(instances, localPods)).as("the local pods").isFalse();
		assertThat(KubernetesManifests.selects(instances, redisPods)).as("Redis").isFalse();
		assertThat(instances.getSpec().getPorts()).extracting(ServicePort::getTargetPort)
			.allSatisfy((target) -> assertThat(KubernetesManifests.port(container(), target))
				.isEqualTo(KubernetesManifests.settings(container()).serverPort()));
		assertThat(KubernetesManifests.selects(service(redisPods), clusterPods)).isFalse();
		assertThat(this.local.all(Service.class)).isNotEmpty()
			.allSatisfy((service) -> assertThat(KubernetesManifests.selects(service, clusterPods))
				.as("the local %s takes the cluster's pods", service.getMetadata().getName())
				.isFalse());
	}

	@Test
	void bothVariantsFitInOneNamespace() {
		Function<HasMetadata, String> kindAndName = (resource) -> resource.getKind() + "/"
				+ resource.getMetadata().getName();
		assertThat(this.cluster.resources()).extracting(kindAndName)
			.doesNotContainAnyElementsOf(this.local.resources().stream().map(kindAndName).toList());
	}

	@Test
	void podMonitorScrapesTheClusterPodsTooButNotRedis() {
		LabelSelector selector = KubernetesManifests.convert(KubernetesManifests.podMonitorSpec().get("selector"),
				LabelSelector.class);
		assertThat(KubernetesManifests.matches(selector, clusterPods())).isTrue();
		assertThat(KubernetesManifests.matches(selector, redisPods())).isFalse();
	}

	@Test
	void redisKeepsItsAppendOnlyFileOnAVolumeClaim() {
		StatefulSet redis = redisStatefulSet();
		assertThat(redis.getSpec().getReplicas()).as("one primary").isEqualTo(1);
		assertThat(redisContainer().getImage()).isEqualTo("redis:7");
		RedisConfig config = redisConfig();
		assertKeepsTheSequence(config);
		Path dir = Path.of(config.get("dir").orElseThrow(() -> new AssertionError("no dir in the ConfigMap")));
		KubernetesManifests.assertWritesOn(redisContainer(), KubernetesManifests.claims(redis), dir);
	}

	@Test
	void redisStartsWithTheConfigurationOfTheConfigMap() {
		ConfigMap configMap = this.cluster.only(ConfigMap.class);
		Volume volume = this.cluster.pods(StatefulSet.class)
			.getSpec()
			.getVolumes()
			.stream()
			.filter((candidate) -> candidate.getConfigMap() != null)
			.findFirst()
			.orElseThrow(() -> new AssertionError("no ConfigMap volume"));
		assertThat(volume.getConfigMap().getName()).isEqualTo(configMap.getMetadata().getName());
		VolumeMount mount = redisContainer().getVolumeMounts()
			.stream()
			.filter((candidate) -> candidate.getName().equals(volume.getName()))
			.findFirst()
			.orElseThrow(() -> new AssertionError("the ConfigMap is not mounted"));
		assertThat(configMap.getData()).hasSize(1);
		String file = Path.of(mount.getMountPath()).resolve(configMap.getData().keySet().iterator().next()).toString();
		assertThat(String.join(" ", redisContainer().getCommand())).contains("redis-server " + file);
	}

	@Test
	void redisRefusesWritesBeforeItsContainerRunsOutOfMemory() {
		long limit = Quantity.getAmountInBytes(redisContainer().getResources().getLimits().get("memory"))
			.longValueExact();
		assertThat(redisConfig().bytes("maxmemory")).hasValueSatisfying(
				(maxmemory) -> assertThat(maxmemory).as("room for the fork of an append-only file rewrite")
					.isPositive()
					.isLessThanOrEqualTo(limit / 2));
	}

	@Test
	void redisConfHasWhatClusterModeNeeds() throws IOException {
		assertKeepsTheSequence(RedisConfig.parse(Files.readString(REDIS_CONF)));
	}

	@Test
	void configMapHoldsEverySettingOfRedisConfSaveWhereThePodDecides() throws IOException {
		Map<String, String> shipped = RedisConfig.parse(Files.readString(REDIS_CONF)).directives();
		Map<String, String> pod = redisConfig().directives();
		assertThat(shipped).isNotEmpty();
		shipped.forEach((directive, value) -> {
			if (!REDIS_POD_DIRECTIVES.contains(directive)) {
				assertThat(pod).as(directive).containsEntry(directive, value);
			}
		});
	}

	@Test
	void instancesOfTheLoneRedisOfRedisYamlWaitForNoReplica() {
		assertThat(value(container(), REPLICAS)).as("redis.yaml has no replica to answer a WAIT").isNull();
		assertThat(redisStatefulSet().getSpec().getReplicas()).isEqualTo(1);
		assertThat(redisConfig().directives()).as("a lone primary with these refuses every write")
			.doesNotContainKeys("min-replicas-to-write", "replicaof");
	}

	@Test
	void sentinelPatchPointsTheInstancesAtTheSentinelsOfSentinelConfAndWaitsForAReplica() throws IOException {
		SentinelConfig sentinel = SentinelConfig.read();
		Container patched = sentinelPatched();
		assertThat(names(patched)).as("the Redis of redis.yaml, or another")
			.doesNotContain("SPRING_DATA_REDIS_HOST", "SPRING_DATA_REDIS_URL")
			.doesNotHaveDuplicates();
		assertThat(value(patched, SENTINEL_PREFIX + "MASTER")).isEqualTo(sentinel.primary());
		List<String> nodes = List.of(value(patched, SENTINEL_PREFIX + "NODES").split(","));
		assertThat(nodes).as("three Sentinels").hasSize(3).doesNotHaveDuplicates().allSatisfy((node) -> {
			assertThat(node).doesNotContainAnyWhitespaces();
			assertThat(node).endsWith(":" + sentinel.port());
		});
		assertThat(sentinel.quorum()).as("a majority of the Sentinels")
			.isGreaterThan(nodes.size() / 2)
			.isLessThan(nodes.size());
		assertThat(value(patched, REPLICAS)).isEqualTo("1");
		SecretKeySelector sentinels = secret(patched, SENTINEL_PREFIX + "PASSWORD");
		SecretKeySelector dataNodes = secret(patched, "SPRING_DATA_REDIS_PASSWORD");
		assertThat(sentinels.getName()).as("the Secret of the data nodes' password").isEqualTo(dataNodes.getName());
		assertThat(sentinels.getKey()).isNotEqualTo(dataNodes.getKey());
		assertThat(sentinels.getOptional()).as("optional: no key, no password").isTrue();
	}

	@Test
	void sentinelPatchChangesNothingButWhereRedisIsAndTheReplicasAValueWaitsFor() {
		Container base = container();
		Container patched = sentinelPatched();
		assertThat(patched.getEnv()).as("every other variable of deployment.yaml, with its value")
			.containsAll(base.getEnv()
				.stream()
				.filter((variable) -> !variable.getName().equals("SPRING_DATA_REDIS_HOST"))
				.toList());
		assertThat(names(patched)).filteredOn((name) -> !names(base).contains(name))
			.isNotEmpty()
			.allSatisfy(
					(name) -> assertThat(name.startsWith(SENTINEL_PREFIX) || name.equals(REPLICAS)).as(name).isTrue());
		assertThat(patched.getEnv()).allSatisfy((variable) -> assertThat(variable.getAdditionalProperties())
			.as("fields of %s the model does not know", variable.getName())
			.isEmpty());
		assertThat(KubernetesManifests.settings(patched).sequence().cluster().enabled()).isTrue();
	}

	// The patch applied as kubectl patch merges a container's environment: by name, an
	// entry with "$patch: delete" removed, any other replacing the one of its name or
	// added
	private Container sentinelPatched() {
		Map<String, Object> patch = KubernetesManifests.readDocument(SENTINEL_PATCH);
		assertThat(patch).as("a patch of the pod template only").containsOnlyKeys("spec");
		Map<String, Object> template = KubernetesManifests
			.map(KubernetesManifests.map(patch.get("spec")).get("template"));
		assertThat(template).containsOnlyKeys("spec");
		Map<String, Object> podSpec = KubernetesManifests.map(template.get("spec"));
		assertThat(podSpec).containsOnlyKeys("containers");
		List<Map<String, Object>> containers = KubernetesManifests.list(podSpec.get("containers"));
		assertThat(containers).singleElement().satisfies((patchedContainer) -> {
			assertThat(patchedContainer).containsOnlyKeys("name", "env");
			assertThat(patchedContainer).containsEntry("name", container().getName());
		});
		List<EnvVar> env = new ArrayList<>(container().getEnv());
		for (Map<String, Object> entry : KubernetesManifests.list(containers.get(0).get("env"))) {
			Object name = entry.get("name");
			if (entry.containsKey("$patch")) {
				assertThat(entry).as("a deletion").containsOnlyKeys("name", "$patch").containsEntry("$patch", "delete");
				assertThat(env).as("%s to delete", name).anyMatch((variable) -> variable.getName().equals(name));
				env.removeIf((variable) -> variable.getName().equals(name));
			}
			else {
				EnvVar variable = KubernetesManifests.convert(entry, EnvVar.class);
				env.replaceAll((candidate) -> candidate.getName().equals(name) ? variable : candidate);
				if (!env.contains(variable)) {
					env.add(variable);
				}
			}
		}
		return new ContainerBuilder(container()).withEnv(env).build();
	}

	private static List<String> names(Container container) {
		return container.getEnv().stream().map(EnvVar::getName).toList();
	}

	private static void assertKeepsTheSequence(RedisConfig config) {
		assertThat(config.get("appendonly")).as("the last value and the history survive a restart").contains("yes");
		assertThat(config.get("appendfsync")).as("about a second at risk").contains("everysec");
		assertThat(config.get("maxmemory-policy")).as("never a key of the sequence evicted").contains("noeviction");
	}

	@SafeVarargs
	private static void assertSelectsOnly(LabelSelector selector, Map<String, String> own,
			Map<String, String>... others) {
		assertThat(KubernetesManifests.matches(selector, own)).as("%s selects its own pods %s", selector, own).isTrue();
		for (Map<String, String> other : others) {
			assertThat(KubernetesManifests.matches(selector, other)).as("%s selects %s", selector, other).isFalse();
		}
	}

	private Service service(Map<String, String> podLabels) {
		List<Service> services = this.cluster.all(Service.class)
			.stream()
			.filter((service) -> KubernetesManifests.selects(service, podLabels))
			.toList();
		assertThat(services).as("the Service of the pods %s", podLabels).hasSize(1);
		return services.get(0);
	}

	private static String value(Container container, String name) {
		return container.getEnv()
			.stream()
			.filter((variable) -> variable.getName().equals(name))
			.map(EnvVar::getValue)
			.findFirst()
			.orElse(null);
	}

	private static SecretKeySelector secret(Container container, String name) {
		return container.getEnv()
			.stream()
			.filter((variable) -> variable.getName().equals(name))
			.findFirst()
			.map((variable) -> variable.getValueFrom().getSecretKeyRef())
			.orElseThrow(() -> new AssertionError(container.getName() + " has no " + name));
	}

	private static List<String> mountPaths(Container container) {
		return container.getVolumeMounts().stream().map(VolumeMount::getMountPath).toList();
	}

	private RedisConfig redisConfig() {
		Map<String, String> data = this.cluster.only(ConfigMap.class).getData();
		assertThat(data).hasSize(1);
		return RedisConfig.parse(data.values().iterator().next());
	}

	private Deployment deployment() {
		return this.cluster.only(Deployment.class);
	}

	private PodSpec podSpec() {
		return this.cluster.pods(Deployment.class).getSpec();
	}

	private Container container() {
		return KubernetesManifests.container(this.cluster.pods(Deployment.class));
	}

	private Container localContainer() {
		return KubernetesManifests.container(this.local.pods(StatefulSet.class));
	}

	private Map<String, String> clusterPods() {
		return this.cluster.pods(Deployment.class).getMetadata().getLabels();
	}

	private Map<String, String> localPods() {
		return this.local.pods(StatefulSet.class).getMetadata().getLabels();
	}

	private Map<String, String> redisPods() {
		return this.cluster.pods(StatefulSet.class).getMetadata().getLabels();
	}

	private StatefulSet redisStatefulSet() {
		return this.cluster.only(StatefulSet.class);
	}

	private Container redisContainer() {
		return KubernetesManifests.container(this.cluster.pods(StatefulSet.class));
	}

}

package com.example.gracefulsequence.deploy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.example.gracefulsequence.deploy.DockerfileInstructions.Instruction;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Checks the {@code Dockerfile} against the deployment contract and the application's
 * defaults by reading its instructions: there is no container engine here to build it.
 *
 * @author graceful-sequence contributors
 */
class DockerfileTests {

	private static final List<String> JAR_LAYERS = List.of("dependencies", "spring-boot-loader",
			"snapshot-dependencies", "application");

	private final DockerfileInstructions dockerfile;

	DockerfileTests() throws IOException {
		this.dockerfile = DockerfileInstructions.read(Path.of("Dockerfile"));
	}

	@Test
	void buildsInOneNamedStageAndRunsInAnother() {
		List<List<Instruction>> stages = this.dockerfile.stages();
		assertThat(stages).hasSizeGreaterThanOrEqualTo(2);
		assertThat(stages).allSatisfy((stage) -> {
			List<String> from = stage.get(0).words();
			assertThat(from).as("FROM <image> AS <name>").hasSize(3);
			assertThat(from.get(1)).isEqualToIgnoringCase("AS");
		});
		assertThat(this.dockerfile.all().get(0).keyword()).isEqualTo("FROM");
	}

	@Test
	void buildsTheJarWithTheWrapperOnATemurin25JdkAndExtractsItsLayers() {
		List<Instruction> build = this.dockerfile.stages().get(0);
		assertThat(build.get(0).words().get(0)).startsWith("eclipse-temurin:25-jdk");
		assertThat(runs(build)).anySatisfy((command) -> assertThat(command).startsWith("./mvnw").contains("package"));
		assertThat(runs(build)).anySatisfy((command) -> assertThat(command).startsWith("java", "-Djarmode=tools")
			.contains("extract", "--layers")
			.doesNotContain("--launcher"));
	}

	@Test
	void runsOnATemurin25JreWithTheJarLayersOfTheBuildStage() {
		List<Instruction> runtime = this.dockerfile.finalStage();
		assertThat(runtime.get(0).words().get(0)).startsWith("eclipse-temurin:25-jre");
		String buildStage = this.dockerfile.stages().get(0).get(0).words().get(2);
		List<String> copiedFromBuild = runtime.stream()
			.filter((instruction) -> instruction.keyword().equals("COPY"))
			.filter((instruction) -> instruction.flag("from").filter(buildStage::equals).isPresent())
			.map((instruction) -> instruction.withoutFlags().get(0))
			.toList();
		assertThat(JAR_LAYERS).allSatisfy((layer) -> assertThat(copiedFromBuild).as("one COPY per jar layer")
			.anySatisfy((source) -> assertThat(source).contains("/" + layer + "/")));
	}

	@Test
	void runsAsAUserThatIsNotRoot() {
		List<Instruction> runtime = this.dockerfile.finalStage();
		List<Instruction> users = instructions(runtime, "USER");
		assertThat(users).isNotEmpty();
		String user = users.get(users.size() - 1).words().get(0).split(":")[0];
		assertThat(user).isNotIn("root", "0");
		assertThat(runtime.indexOf(users.get(users.size() - 1))).isLessThan(runtime.indexOf(entrypoint()));
	}

	@Test
	void startsTheJvmAsProcessOneInExecFormAndStopsItWithSigterm() {
		Instruction entrypoint = entrypoint();
		assertThat(entrypoint.isExecForm()).as("ENTRYPOINT in exec (JSON array) form").isTrue();
		assertThat(entrypoint.execForm()).first().isEqualTo("java");
		assertThat(entrypoint.execForm()).contains("-jar");
		assertThat(instructions(this.dockerfile.finalStage(), "CMD")).allSatisfy(
				(cmd) -> assertThat(cmd.isExecForm()).as("CMD, if any, in exec form: arguments to java").isTrue());
		assertThat(instructions(this.dockerfile.finalStage(), "STOPSIGNAL"))
			.allSatisfy((signal) -> assertThat(signal.arguments()).isEqualTo("SIGTERM"));
	}

	@Test
	void exposesTheServerPort() {
		List<Instruction> exposes = instructions(this.dockerfile.finalStage(), "EXPOSE");
		assertThat(exposes).hasSize(1);
		assertThat(exposes.get(0).words()).containsExactly(String.valueOf(settings().serverPort()));
	}

	@Test
	void keepsTheStateFileInTheDataVolume() {
		List<String> volumes = instructions(this.dockerfile.finalStage(), "VOLUME").stream()
			.flatMap((volume) -> (volume.isExecForm() ? volume.execForm() : volume.words()).stream())
			.toList();
		assertThat(volumes).containsExactly("/data");
		Path stateFile = settings().sequence().stateFile();
		assertThat(stateFile).isAbsolute();
		assertThat(stateFile.getParent()).isEqualTo(Path.of("/data"));
	}

	@Test
	void trainsAnAotCacheInTheRuntimeStageAndStartsWithIt() {
		List<Instruction> runtime = this.dockerfile.finalStage();
		Instruction training = runtime.stream()
			.filter((instruction) -> instruction.keyword().equals("RUN"))
			.filter((instruction) -> instruction.arguments().contains("-XX:AOTCacheOutput="))
			.findFirst()
			.orElseThrow(() -> new AssertionError("No training run (-XX:AOTCacheOutput) in the runtime stage"));
		List<String> trainer = training.withoutFlags();
		List<Instruction> copies = instructions(runtime, "COPY");
		assertThat(copies).as("the training run of deploy/aot/train.sh, on a run like production")
			.anySatisfy(
					(copy) -> assertThat(copy.withoutFlags()).containsExactly("deploy/aot/train.sh", trainer.get(0)));
		List<String> train = trainer.subList(1, trainer.size());
		List<String> run = entrypoint().execForm();
		String cache = option(train, "-XX:AOTCacheOutput=");
		assertThat(cache).isNotEmpty();
		assertThat(option(run, "-XX:AOTCache=")).isEqualTo(cache);
		assertThat(train).first().isEqualTo("java");
		assertThat(train).as("not a run that stops at the context refresh")
			.doesNotContain("-Dspring.context.exit=onRefresh");
		assertThat(jvmOptions(train)).as("the training run uses the JVM options of the ENTRYPOINT")
			.isEqualTo(jvmOptions(run));
		assertThat(train.subList(train.indexOf("-jar"), train.size())).as("and the same jar")
			.isEqualTo(run.subList(run.indexOf("-jar"), run.indexOf("-jar") + 2));
		assertThat(runtime.indexOf(training)).as("trained on the application as it runs")
			.isGreaterThan(runtime.indexOf(copies.get(copies.size() - 1)));
		instructions(runtime, "VOLUME").forEach((volume) -> assertThat(runtime.indexOf(training))
			.as("trained before VOLUME, which discards later changes to the volume")
			.isLessThan(runtime.indexOf(volume)));
	}

	@Test
	void usesSerialGcAndAHeapRelativeToTheContainerMemory() {
		assertThat(jvmOptions(entrypoint().execForm())).contains("-XX:+UseSerialGC")
			.anySatisfy((option) -> assertThat(option).startsWith("-XX:MaxRAMPercentage="));
	}

	private ApplicationSettings settings() {
		Map<String, String> environment = new LinkedHashMap<>();
		instructions(this.dockerfile.finalStage(), "ENV").forEach((env) -> environment.putAll(env.variables()));
		List<String> run = entrypoint().execForm();
		return ApplicationSettings.of(environment, run.subList(run.indexOf("-jar") + 2, run.size()));
	}

	private Instruction entrypoint() {
		List<Instruction> entrypoints = instructions(this.dockerfile.finalStage(), "ENTRYPOINT");
		assertThat(entrypoints).hasSize(1);
		return entrypoints.get(0);
	}

	private static List<Instruction> instructions(List<Instruction> stage, String keyword) {
		return stage.stream().filter((instruction) -> instruction.keyword().equals(keyword)).toList();
	}

	private static List<List<String>> runs(List<Instruction> stage) {
		return instructions(stage, "RUN").stream().map(Instruction::withoutFlags).toList();
	}

	private static String option(List<String> command, String prefix) {
		return command.stream()
			.filter((word) -> word.startsWith(prefix))
			.map((word) -> word.substring(prefix.length()))
			.findFirst()
			.orElse("");
	}

	/**
	 * The options between {@code java} and {@code -jar}, without those of the AOT cache
	 * and of the training run.
	 * @param command a java command line
	 * @return the options
	 */
	static List<String> jvmOptions(List<String> command) {
		List<String> options = new ArrayList<>(command.subList(1, command.indexOf("-jar")));
		options.removeIf((option) -> option.startsWith("-XX:AOTCache") || option.startsWith("-Dspring.context.exit"));
		return options;
	}

}

package com.example.gracefulsequence.deploy;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.example.gracefulsequence.deploy.ApplicationSettings.ForwardedAddress;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * Checks the systemd unit and its environment file under {@code deploy/systemd/} against
 * the application's defaults and its exit status after SIGTERM.
 *
 * @author graceful-sequence contributors
 */
class SystemdUnitTests {

	private static final Path DIRECTORY = Path.of("deploy", "systemd");

	private static final String SERVICE = "Service";

	private final SystemdUnit unit;

	private final Map<String, String> environment;

	SystemdUnitTests() throws IOException {
		this.unit = SystemdUnit.read(DIRECTORY.resolve("graceful-sequence.service"));
		this.environment = SystemdUnit.environmentFile(DIRECTORY.resolve("graceful-sequence.env"));
	}

	@Test
	void stopsTheJvmWithSigtermAndCountsItsExitStatusAsSuccess() {
		assertThat(this.unit.value(SERVICE, "KillSignal")).hasValue("SIGTERM");
		assertThat(this.unit.value(SERVICE, "SuccessExitStatus")).hasValueSatisfying(
				(statuses) -> assertThat(List.of(statuses.split("\\s+"))).as("the JVM's status after SIGTERM")
					.contains("143"));
	}

	@Test
	void stopTimeoutOutlastsTheShutdownDeadline() {
		ApplicationSettings settings = ApplicationSettings.of(this.environment, List.of());
		assertThat(settings.shutdown().deadline()).as("shutdown.deadline, or the application does not start")
			.isGreaterThan(settings.drainDelayPlusTimeout());
		Duration timeout = SystemdUnit.timeSpan(this.unit.value(SERVICE, "TimeoutStopSec")
			.or(() -> this.unit.value(SERVICE, "TimeoutSec"))
			.orElseThrow());
		assertThat(timeout).as("the application's deadline ends a stuck shutdown before systemd's SIGKILL does")
			.isGreaterThan(settings.shutdown().deadline());
	}

	@Test
	void runsAsADedicatedUser() {
		boolean dynamicUser = this.unit.value(SERVICE, "DynamicUser")
			.filter((value) -> value.equals("yes"))
			.isPresent();
		String user = this.unit.value(SERVICE, "User").orElse("");
		assertThat(dynamicUser || !(user.isEmpty() || user.equals("root") || user.equals("0")))
			.as("DynamicUser=yes or a User= that is not root")
			.isTrue();
	}

	@Test
	void keepsTheStateFileInTheStateDirectory() {
		String stateDirectory = this.unit.value(SERVICE, "StateDirectory").orElseThrow();
		Path stateFile = ApplicationSettings.of(this.environment, List.of()).sequence().stateFile();
		assertThat(stateFile).isAbsolute();
		assertThat(stateFile.getParent()).isEqualTo(Path.of("/var/lib", stateDirectory));
	}

	@Test
	void startsTheJarWithTheConfigurationOfTheEnvironmentFile() {
		assertThat(this.unit.value(SERVICE, "EnvironmentFile"))
			.hasValueSatisfying((file) -> assertThat(Path.of(file.replaceFirst("^-", "")).getFileName())
				.hasToString("graceful-sequence.env"));
		String execStart = this.unit.value(SERVICE, "ExecStart").orElseThrow();
		List<String> words = List.of(execStart.split("\\s+"));
		assertThat(Path.of(words.get(0))).isAbsolute();
		assertThat(Path.of(words.get(0)).getFileName()).hasToString("java");
		assertThat(words).contains("-jar");
		if (this.environment.containsKey("JAVA_OPTS")) {
			assertThat(words).as("$JAVA_OPTS, unbraced, so that systemd splits it into words").contains("$JAVA_OPTS");
		}
		assertThat(ApplicationSettings.of(this.environment, List.of()).serverPort())
			.isEqualTo(ApplicationSettings.defaults().serverPort());
	}

	@Test
	void trustsTheForwardedAddressOfAProxyOnThisHostOnlyAndLimitsEachClient() {
		ApplicationSettings settings = ApplicationSettings.of(this.environment, List.of());
		ForwardedAddress forwarded = settings.forwardedAddress();
		assertThat(ApplicationSettings.defaults().forwardedAddress().trusts("127.0.0.1"))
			.as("the application's default trusts no forwarded address")
			.isFalse();
		assertThat(List.of("127.0.0.1", "0:0:0:0:0:0:0:1"))
			.allSatisfy((peer) -> assertThat(forwarded.trusts(peer)).as("a proxy on this host, %s", peer).isTrue());
		assertThat(List.of("127.0.0.10", "127.0.0.2", "10.0.0.1", "172.16.0.1", "192.168.1.1", "127x0x0x1"))
			.allSatisfy((peer) -> assertThat(forwarded.trusts(peer)).as("any other peer, %s", peer).isFalse());
		assertThat(settings.sequence().maxSubscribersPerClient())
			.as("sequence.max-subscribers-per-client, since this host knows each client's address")
			.isPositive();
	}

	@Test
	void readsSystemdTimeSpans() {
		assertThat(SystemdUnit.timeSpan("75")).isEqualTo(Duration.ofSeconds(75));
		assertThat(SystemdUnit.timeSpan("75s")).isEqualTo(Duration.ofSeconds(75));
		assertThat(SystemdUnit.timeSpan("1min 15s")).isEqualTo(Duration.ofSeconds(75));
		assertThat(SystemdUnit.timeSpan("2m")).isEqualTo(Duration.ofMinutes(2));
		assertThat(SystemdUnit.timeSpan("500ms")).isEqualTo(Duration.ofMillis(500));
		assertThatIllegalArgumentException().isThrownBy(() -> SystemdUnit.timeSpan("infinity"));
	}

}

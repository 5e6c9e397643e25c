package com.example.gracefulsequence;

import java.util.Map;

import com.example.gracefulsequence.sequence.SequenceProperties;
import com.example.gracefulsequence.shutdown.ShutdownProperties;
import org.junit.jupiter.api.Test;

import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Configuration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests that invalid configuration stops start-up with a message naming the property and
 * what is allowed.
 *
 * @author graceful-sequence contributors
 */
class ConfigurationValidationTests {

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withUserConfiguration(PropertiesConfiguration.class);

	@Test
	void defaultsMatchTheContract() {
		this.runner.run((context) -> {
			SequenceProperties sequence = context.getBean(SequenceProperties.class);
			assertThat(sequence.period()).hasSeconds(2);
			assertThat(sequence.bound()).isEqualTo(120);
			assertThat(sequence.seed()).isNull();
			assertThat(sequence.stateFile()).hasToString("last-num-from-seq.txt");
			// Unset: what the heap holds, at most 10000 (SubscriberCapacity)
			assertThat(sequence.maxSubscribers()).isNull();
			assertThat(sequence.stream().reconnectDelay()).hasSeconds(3);
			assertThat(sequence.stream().replay()).isEqualTo(64);
			assertThat(sequence.stream().heartbeat()).hasSeconds(15);
			assertThat(sequence.cors().allowedOrigins()).isEmpty();
			assertThat(sequence.cluster().enabled()).isFalse();
			assertThat(sequence.cluster().lease()).hasSeconds(5);
			assertThat(sequence.cluster().replicas()).isZero();
			ShutdownProperties shutdown = context.getBean(ShutdownProperties.class);
			assertThat(shutdown.drainDelay()).isZero();
			assertThat(shutdown.deadline()).hasSeconds(60);
		});
	}

	@Test
	void invalidValuesAreRefusedNamingThePropertyAndWhatIsAllowed() {
		Map<String, String> expectations = Map.ofEntries(
				Map.entry("sequence.period=0s", "sequence.period must be greater than 0, for example 2s"),
				Map.entry("sequence.period=-1s", "sequence.period must be greater than 0"),
				Map.entry("sequence.bound=0", "sequence.bound must be at least 1"),
				Map.entry("sequence.max-subscribers=-1", "sequence.max-subscribers must be 0 or more"),
				Map.entry("sequence.stream.reconnect-delay=0s",
						"sequence.stream.reconnect-delay must be greater than 0"),
				Map.entry("sequence.stream.reconnect-delay=2h",
						"sequence.stream.reconnect-delay must be greater than 0 and at most 1h"),
				Map.entry("sequence.stream.replay=-1", "sequence.stream.replay must be from 0 to 100000"),
				Map.entry("sequence.stream.heartbeat=-1s", "sequence.stream.heartbeat must be from 0s (off) to 1h"),
				Map.entry("sequence.stream.heartbeat=61m", "sequence.stream.heartbeat must be from 0s (off) to 1h"),
				Map.entry("sequence.cluster.lease=100ms", "sequence.cluster.lease must be at least 300ms"),
				Map.entry("sequence.cluster.replicas=-1", "sequence.cluster.replicas must be from 0 to 16"),
				Map.entry("sequence.cluster.replicas=17", "sequence.cluster.replicas must be from 0 to 16"),
				Map.entry("shutdown.drain-delay=-5s", "shutdown.drain-delay must be 0s or more"),
				Map.entry("shutdown.deadline=0s", "shutdown.deadline must be greater than 0"));
		expectations.forEach((property, message) -> this.runner.withPropertyValues(property)
			.run((context) -> assertThat(context).getFailure().rootCause().hasMessageContaining(message)));
	}

	@Test
	void valuesOfTheWrongTypeAreRefusedNamingTheProperty() {
		this.runner.withPropertyValues("sequence.period=soon")
			.run((context) -> assertThat(context).getFailure().cause().hasMessageContaining("sequence.period"));
		this.runner.withPropertyValues("sequence.seed=abc")
			.run((context) -> assertThat(context).getFailure().cause().hasMessageContaining("sequence.seed"));
		this.runner.withPropertyValues("sequence.stream.replay=many")
			.run((context) -> assertThat(context).getFailure().cause().hasMessageContaining("sequence.stream.replay"));
	}

	@Test
	void aSeedAndAStateFileAreBound() {
		this.runner.withPropertyValues("sequence.seed=42", "sequence.state-file=/data/last.txt").run((context) -> {
			assertThat(context.getBean(SequenceProperties.class).seed()).isEqualTo(42L);
			assertThat(context.getBean(SequenceProperties.class).stateFile()).hasToString("/data/last.txt");
		});
	}

	@Configuration(proxyBeanMethods = false)
	@EnableConfigurationProperties({ SequenceProperties.class, ShutdownProperties.class })
	static class PropertiesConfiguration {

	}

}

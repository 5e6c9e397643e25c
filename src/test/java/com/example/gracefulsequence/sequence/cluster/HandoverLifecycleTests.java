package com.example.gracefulsequence.sequence.cluster;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import com.example.gracefulsequence.sequence.SequenceHub;
import com.example.gracefulsequence.sequence.SequenceProperties;
import com.example.gracefulsequence.sequence.SubscriberPlaces;
import com.example.gracefulsequence.shutdown.ShutdownStep;
import com.example.gracefulsequence.state.StateFile;
import com.example.gracefulsequence.state.StateFileWriter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.health.registry.DefaultHealthContributorRegistry;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link HandoverLifecycle}.
 *
 * @author graceful-sequence contributors
 */
@ExtendWith(OutputCaptureExtension.class)
class HandoverLifecycleTests {

	private final AtomicInteger callbacks = new AtomicInteger();

	private static HandoverLifecycle localHandover() {
		SequenceProperties properties = new SequenceProperties(Duration.ofSeconds(2), 120, null,
				Path.of("last-num-from-seq.txt"), 10, 0,
				new SequenceProperties.Stream(Duration.ofSeconds(3), 64, Duration.ofSeconds(15)),
				new SequenceProperties.Cors(List.of()), new SequenceProperties.FastPath(true),
				new SequenceProperties.Cluster(false, Duration.ofSeconds(5), 0));
		ClusterSettings settings = ClusterSettings.of(properties, null);
		SimpleMeterRegistry registry = new SimpleMeterRegistry();
		StateFile stateFile = new StateFile(properties.stateFile(), Clock.systemUTC());
		SequenceHub hub = new SequenceHub(new SubscriberPlaces(10, 0), 64, Duration.ZERO, System::nanoTime, null);
		ClusterSequence cluster = new ClusterSequence(settings, null, null, hub,
				new StateFileWriter(stateFile, Clock.systemUTC(), registry), Clock.systemUTC(), registry,
				new DefaultHealthContributorRegistry());
		return new HandoverLifecycle(cluster, settings);
	}

	@Test
	void inLocalModeTheStepSaysThereIsNothingToHandOverAndCallsBack(CapturedOutput output) {
		HandoverLifecycle handover = localHandover();
		handover.start();
		handover.stop(this.callbacks::incrementAndGet);
		assertThat(this.callbacks).hasValue(1);
		assertThat(handover.isRunning()).isFalse();
		assertThat(output).contains("Nothing to hand over: cluster mode is off")
			.doesNotContain("this instance does not lead");
	}

	@Test
	void theStepStopsBeforeTheStreamsAreToldToGo() {
		assertThat(localHandover().getPhase()).isGreaterThan(ShutdownStep.STREAMS.phase());
	}

}

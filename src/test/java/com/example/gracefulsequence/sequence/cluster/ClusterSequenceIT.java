package com.example.gracefulsequence.sequence.cluster;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import com.example.gracefulsequence.ClusterSeries;
import com.example.gracefulsequence.ServiceProcess;
import com.example.gracefulsequence.sequence.cluster.ClusterInstances.Entry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * One sequence for many instances, with the packaged jar and a real Redis: every instance
 * serves the same values with the same ids, indexes and times, and a stream told to go by
 * one instance resumes on another with every value in between, once and in order.
 *
 * @author graceful-sequence contributors
 */
class ClusterSequenceIT {

	private static final Duration PERIOD = Duration.ofMillis(500);

	private static final Duration OBSERVED = Duration.ofMinutes(1);

	private static final String[] ARGUMENTS = { "--sequence.period=" + PERIOD.toMillis() + "ms",
			"--sequence.stream.replay=1000" };

	@Test
	void everyInstanceServesTheSameValuesWithTheSameIdsIndexesAndTimesOverAMinute(@TempDir Path directory)
			throws Exception {
		try (ClusterInstances cluster = ClusterInstances.startWithRedis(directory, 3, ARGUMENTS)) {
			cluster.awaitLeader(ServiceProcess.STARTUP_TIMEOUT);
			List<StreamRecord> streams = StreamRecord.openOnEach(cluster);
			try {
				long from = cluster.history().size();
				int values = (int) (OBSERVED.toMillis() / PERIOD.toMillis());
				await("a minute of values").atMost(OBSERVED.plusSeconds(30))
					.pollInterval(Duration.ofSeconds(1))
					.until(() -> cluster.history().size() >= from + values);
				List<Entry> history = cluster.history();
				long last = history.get(history.size() - 1).id();
				await("every stream at the last value").atMost(Duration.ofSeconds(10))
					.until(() -> streams.stream().allMatch((stream) -> stream.lastId() >= last));
				for (StreamRecord stream : streams) {
					stream.assertFollowed(cluster);
					assertThat(stream.values()).hasSizeGreaterThanOrEqualTo(values);
				}
				for (ServiceProcess instance : cluster.all()) {
					String scrape = instance.get("/actuator/prometheus").body();
					assertThat(ClusterSeries.NAMES).allMatch((name) -> scrape.contains("\n" + name + "{"),
							"in the scrape of an instance in cluster mode");
				}
			}
			finally {
				streams.forEach(StreamRecord::close);
			}
		}
	}

	@Test
	void aStreamToldToGoByOneInstanceResumesOnAnotherWithEveryValueInBetweenOnceAndInOrder(@TempDir Path directory)
			throws Exception {
		try (ClusterInstances cluster = ClusterInstances.startWithRedis(directory, 2, ARGUMENTS)) {
			cluster.awaitLeader(ServiceProcess.STARTUP_TIMEOUT);
			ServiceProcess leaving = cluster.all().get(0);
			ServiceProcess staying = cluster.all().get(1);
			try (StreamRecord before = StreamRecord.open(leaving, null)) {
				await("values on the first instance").atMost(Duration.ofSeconds(20))
					.until(() -> before.values().size() >= 3);
				leaving.sigterm();
				await("the shutdown event").atMost(Duration.ofSeconds(20)).until(before::ended);
				assertThat(before.others()).anyMatch((event) -> event.startsWith("shutdown"));
				// Values the client misses while it is away
				int size = cluster.history().size();
				await("values while the client is away").atMost(Duration.ofSeconds(20))
					.until(() -> cluster.history().size() >= size + 2);
				try (StreamRecord after = StreamRecord.open(staying, Long.toString(before.lastId()))) {
					await("values on the second instance").atMost(Duration.ofSeconds(20))
						.until(() -> after.values().size() >= 4);
					List<Entry> both = new ArrayList<>(before.values());
					both.addAll(after.values());
					assertThat(both.get(before.values().size()).id()).isGreaterThan(before.lastId());
					StreamRecord.assertFollowed(both, cluster.history());
				}
				// An id that no instance produced starts with the current value
				long unknown = before.lastId() + Duration.ofDays(365).toMillis();
				try (StreamRecord unknownId = StreamRecord.open(staying, Long.toString(unknown))) {
					await("the current value").atMost(Duration.ofSeconds(10))
						.until(() -> !unknownId.values().isEmpty());
					assertThat(unknownId.values().get(0).id()).isLessThan(unknown);
				}
			}
			assertThat(leaving.awaitExit(Duration.ofSeconds(30))).isEqualTo(143);
		}
	}

}

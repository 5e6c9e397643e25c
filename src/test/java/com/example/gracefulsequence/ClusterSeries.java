package com.example.gracefulsequence;

import java.util.Set;

/**
 * The Prometheus series that only cluster mode ({@code sequence.cluster.enabled=true})
 * exposes, in one list. The deployment tests scrape an instance in local mode, which must
 * show none of them: they hold a query of the dashboard or an alert over one of these to
 * this list (a misspelt name fails there) and leave its data to the cluster tests, which
 * check the list against a scrape of an instance in cluster mode.
 *
 * @author graceful-sequence contributors
 */
public final class ClusterSeries {

	/**
	 * The prefix of every series of cluster mode's own meters
	 * ({@code sequence.cluster.*}).
	 */
	public static final String PREFIX = "sequence_cluster_";

	/**
	 * Every series of cluster mode's meters, as {@code /actuator/prometheus} names them.
	 * {@code sequence_values_total} is not one of them: it counts the values an instance
	 * produced in local mode and received in cluster mode.
	 */
	public static final Set<String> NAMES = Set.of("sequence_cluster_produced_total", "sequence_cluster_leader",
			"sequence_cluster_leads_total", "sequence_cluster_redis_up", "sequence_cluster_redis_errors_total",
			"sequence_cluster_delay_seconds_bucket", "sequence_cluster_delay_seconds_count",
			"sequence_cluster_delay_seconds_sum", "sequence_cluster_delay_seconds_max",
			"sequence_cluster_replicas_acknowledged", "sequence_cluster_commit_stalls_total",
			"sequence_cluster_redis_failovers_total");

	private ClusterSeries() {
	}

	/**
	 * Whether a series belongs to cluster mode: its name has the prefix of cluster mode's
	 * meters, whether or not it is one of {@link #NAMES}.
	 * @param name the name of a series
	 * @return whether only cluster mode can expose it
	 */
	public static boolean isClusterOnly(String name) {
		return name.startsWith(PREFIX);
	}

}

package com.example.gracefulsequence.sequence.cluster;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import com.example.gracefulsequence.Browser;
import com.example.gracefulsequence.FreePort;
import com.example.gracefulsequence.LivePage;
import com.example.gracefulsequence.ServiceProcess;
import com.example.gracefulsequence.deploy.HaproxyProcess;
import com.example.gracefulsequence.sequence.cluster.ClusterInstances.Entry;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Resume on another instance as a user does: the live page in a real headless Chromium,
 * through real HAProxy on a copy of {@code deploy/haproxy/haproxy.cfg}, in front of two
 * instances of the packaged jar in cluster mode on a real Redis. When the instance that
 * holds the page's stream stops, the browser's own {@code EventSource} gets the
 * {@code shutdown} event, comes back through HAProxy to the other instance with
 * {@code Last-Event-ID}, and goes on with every value of the cluster's history in
 * between, once and in order.
 *
 * @author graceful-sequence contributors
 */
class ClusterResumeBrowserIT {

	// The browser stays away at least the base of its retry, four periods: values come
	// meanwhile that a service which ignored Last-Event-ID (and started again with the
	// current value) would never send, so the check against the history would fail. The
	// drain delay outlasts HAProxy's checks (1.5 s), so that HAProxy takes the leaving
	// instance out of rotation before its port closes, as haproxy.cfg's rule says
	private static final String[] ARGUMENTS = { "--sequence.period=500ms", "--sequence.stream.replay=1000",
			"--sequence.stream.reconnect-delay=2s", "--shutdown.drain-delay=2s" };

	private static final int VALUES_AFTER_THE_STOP = 3;

	private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(30);

	@BeforeEach
	void programsInstalled() {
		Browser.assumeInstalled();
		HaproxyProcess.executable();
	}

	@Test
	@Timeout(value = 4, unit = TimeUnit.MINUTES)
	void theLivePageThroughHaproxyResumesOnTheOtherInstanceWithEveryValueInBetweenWhenItsInstanceStops(
			@TempDir Path directory) throws Exception {
		int port = FreePort.find();
		try (RedisServer redis = RedisServer.start(Files.createDirectories(directory.resolve("redis")));
				ClusterInstances cluster = ClusterInstances.start(redis, directory, 2, ARGUMENTS);
				HaproxyProcess haproxy = haproxyInFrontOf(cluster.all(), port, directory);
				Browser browser = Browser.start()) {
			cluster.awaitLeader(ServiceProcess.STARTUP_TIMEOUT);
			browser.open(URI.create("http://127.0.0.1:" + port + "/"));
			LivePage.await(browser, "values through HAProxy", (page) -> page.values().size() >= 3);
			ServiceProcess leaving = streamHolder(cluster.all());
			ServiceProcess staying = cluster.all()
				.stream()
				.filter((other) -> other != leaving)
				.findFirst()
				.orElseThrow();
			leaving.sigterm();
			LivePage told = LivePage.await(browser, "the shutdown event", (page) -> page.count("shutdown") >= 1);
			int before = (int) told.events()
				.subList(0, told.events().indexOf("shutdown"))
				.stream()
				.filter("value"::equals)
				.count();
			long lastBeforeTheStop = Long.parseLong(told.values().get(before - 1).id());
			LivePage.await(browser, VALUES_AFTER_THE_STOP + " values from the other instance",
					(page) -> page.values().size() >= before + VALUES_AFTER_THE_STOP);
			assertThat(leaving.awaitExit(EXIT_TIMEOUT)).isEqualTo(143);
			await("the browser's stream on the other instance").atMost(Duration.ofSeconds(10))
				.until(() -> staying.subscribers("stream"), (streams) -> streams == 1.0);
			LivePage page = LivePage.read(browser);
			List<Entry> received = page.values()
				.stream()
				.map((value) -> new Entry(Long.parseLong(value.id()), value.value(), value.index(), ""))
				.toList();
			assertThat(received).extracting(Entry::id).as("ids never go backwards").isSorted().doesNotHaveDuplicates();
			assertThat(received.subList(before, received.size())).as("values after the stop")
				.hasSizeGreaterThanOrEqualTo(VALUES_AFTER_THE_STOP)
				.allMatch((value) -> value.id() > lastBeforeTheStop);
			StreamRecord.assertFollowed(received, cluster.history());
			assertThat(page.values()).allMatch((value) -> value.source().equals("live"));
			assertThat(page.events()).as("HAProxy or an instance turned the page away").doesNotContain("busy");
			assertThat(page.closed()).as("the EventSource was ever CLOSED").isFalse();
			assertThat(page.states()).as("readyState: open at the end").last().isEqualTo(1);
		}
	}

	/**
	 * The instance that holds the browser's one stream, as the instances' stream gauges
	 * show.
	 */
	private static ServiceProcess streamHolder(List<ServiceProcess> instances) throws IOException {
		await("the browser's stream on one instance").atMost(Duration.ofSeconds(10))
			.until(() -> instances.get(0).subscribers("stream") + instances.get(1).subscribers("stream") == 1.0);
		return (instances.get(0).subscribers("stream") == 1.0) ? instances.get(0) : instances.get(1);
	}

	private static HaproxyProcess haproxyInFrontOf(List<ServiceProcess> instances, int port, Path directory)
			throws IOException {
		List<Integer> ports = instances.stream().map(ServiceProcess::port).toList();
		String copy = HaproxyProcess.copy(port, FreePort.find(), ports, Map.of());
		return HaproxyProcess.start(HaproxyProcess.executable(), Files.createDirectories(directory.resolve("haproxy")),
				copy, port, Map.of());
	}

}

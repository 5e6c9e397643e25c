package com.example.gracefulsequence.sequence.cluster;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import com.example.gracefulsequence.Browser;
import com.example.gracefulsequence.HttpConnection.Response;
import com.example.gracefulsequence.ServiceProcess;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The live page at {@code /} in a real headless Chromium against the packaged jar in
 * cluster mode, on a real Redis: it tells the cluster mode and the status of Redis from
 * the service's health, and what the index means in a cluster. The local mode's page is
 * checked in {@code LivePageBrowserIT}.
 *
 * @author graceful-sequence contributors
 */
class ClusterLivePageBrowserIT {

	// The default period: the bound of every Redis call is at most half the period, so a
	// short period would be short enough that a busy machine sees Redis DOWN for a moment
	// now and then
	private static final String PERIOD = "--sequence.period=2s";

	private static final Duration PAGE_TIMEOUT = Duration.ofSeconds(20);

	private static final Duration REDIS_DOWN_TIMEOUT = Duration.ofSeconds(30);

	private static final JsonMapper json = JsonMapper.builder().build();

	@BeforeEach
	void browserInstalled() {
		Browser.assumeInstalled();
	}

	@Test
	@Timeout(value = 4, unit = TimeUnit.MINUTES)
	void theLivePageSaysItIsClusterModeWithTheStatusOfRedisAndThatTheIndexIsTheClustersPosition(@TempDir Path directory)
			throws Exception {
		try (RedisServer redis = RedisServer.start(directory.resolve("redis"));
				ClusterInstances cluster = ClusterInstances.start(redis, directory, 1, PERIOD);
				Browser browser = Browser.start()) {
			ServiceProcess instance = cluster.all().get(0);
			browser.open(instance.uri("/"));
			awaitMode(browser);
			assertThat(browser.script("return window.sequencePage.mode")).isEqualTo("cluster");
			assertThat(browser.script("return window.sequencePage.redis")).isEqualTo("UP");
			assertThat(browser.isDisplayed("mode")).isTrue();
			assertThat(browser.text("mode")).contains("cluster").contains("Redis UP").doesNotContain("local");
			assertThat(browser.isDisplayed("about")).as("what holds in either mode").isTrue();
			assertThat(browser.isDisplayed("about-cluster")).as("the cluster mode's text").isTrue();
			assertThat(browser.text("about-cluster")).contains("index");
			assertThat(browser.isDisplayed("about-local")).as("the local mode's text").isFalse();

			redis.stop();
			await("the redis health component DOWN").atMost(REDIS_DOWN_TIMEOUT)
				.pollInterval(Duration.ofMillis(200))
				.until(() -> redisStatus(instance).equals("DOWN"));
			// Still an answer with the mode, which the page reads
			assertThat(instance.get("/actuator/health").status()).isEqualTo(503);
			browser.open(instance.uri("/"));
			awaitMode(browser);
			assertThat(browser.script("return window.sequencePage.mode")).isEqualTo("cluster");
			assertThat(browser.script("return window.sequencePage.redis")).isEqualTo("DOWN");
			assertThat(browser.text("mode")).contains("cluster").contains("Redis DOWN");
			assertThat(browser.isDisplayed("about-cluster")).isTrue();
			assertThat(browser.isDisplayed("about-local")).isFalse();
		}
	}

	private static void awaitMode(Browser browser) {
		await("the mode from the service's health").atMost(PAGE_TIMEOUT)
			.pollInterval(Duration.ofMillis(100))
			.until(() -> browser.script("return window.sequencePage && window.sequencePage.mode") != null);
	}

	private static String redisStatus(ServiceProcess instance) throws IOException {
		Response health = instance.get("/actuator/health");
		return json.readTree(health.body()).at("/components/redis/status").asString("");
	}

}

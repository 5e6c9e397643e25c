package com.example.gracefulsequence.sequence.web;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.example.gracefulsequence.Browser;
import com.example.gracefulsequence.EventStream;
import com.example.gracefulsequence.EventStream.Event;
import com.example.gracefulsequence.FreePort;
import com.example.gracefulsequence.LivePage;
import com.example.gracefulsequence.LivePage.PageValue;
import com.example.gracefulsequence.ServiceProcess;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.core.io.ClassPathResource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The live page at {@code /} in a real headless Chromium against the packaged jar: the
 * browser's own {@code EventSource} comes back by itself after a shutdown and a restart,
 * waits while the service is full, and reads the stream from another origin when that
 * origin is allowed. None of it ever lets the {@code EventSource} reach {@code CLOSED},
 * the state from which a browser never reconnects. The page also says which mode the
 * service runs in, from its health, and what the index means there; the cluster mode's
 * page is checked beside the cluster's other tests, with a real Redis.
 *
 * @author graceful-sequence contributors
 */
class LivePageBrowserIT {

	private static final String PERIOD = "--sequence.period=300ms";

	private static final String RECONNECT_DELAY = "--sequence.stream.reconnect-delay=500ms";

	private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(30);

	@BeforeEach
	void browserInstalled() {
		Browser.assumeInstalled();
	}

	@Test
	@Timeout(value = 4, unit = TimeUnit.MINUTES)
	void theLivePageKeepsReceivingValuesAcrossARestartOnTheSamePort(@TempDir Path directory) throws Exception {
		int port = FreePort.find();
		String[] arguments = { PERIOD, RECONNECT_DELAY, "--shutdown.drain-delay=3s" };
		try (Browser browser = Browser.start()) {
			LivePage stopped;
			try (ServiceProcess first = ServiceProcess.start(directory, port, arguments)) {
				first.awaitReady();
				browser.open(first.uri("/"));
				LivePage.await(browser, "values from the first instance", (page) -> page.values().size() >= 3);
				first.sigterm();
				LivePage.await(browser, "the shutdown event", (page) -> page.count("shutdown") >= 1);
				LivePage.await(browser, "the shutdown event again on a reconnect during the drain delay",
						(page) -> page.count("shutdown") >= 2);
				assertThat(first.awaitExit(EXIT_TIMEOUT)).isEqualTo(143);
				int errorsAtExit = LivePage.read(browser).errors();
				stopped = LivePage.await(browser, "reconnects that fail on the closed port",
						(page) -> page.errors() >= errorsAtExit + 2);
			}
			assertThat(stopped.states()).as("readyState while nothing listens").endsWith(0);
			try (ServiceProcess second = ServiceProcess.start(directory, port, arguments)) {
				second.awaitReady();
				LivePage page = LivePage.await(browser, "a live value from the second instance",
						(current) -> current.values().size() > stopped.values().size()
								&& current.values().get(current.values().size() - 1).source().equals("live"));
				List<PageValue> before = stopped.values();
				List<PageValue> after = page.values().subList(before.size(), page.values().size());
				PageValue lastBefore = before.get(before.size() - 1);
				PageValue firstAfter = after.get(0);
				assertThat(firstAfter.index() < lastBefore.index() || firstAfter.source().equals("restored"))
					.as("the second instance starts again (%s after %s)", firstAfter, lastBefore)
					.isTrue();
				assertThat(page.instances()).as("the page says a new instance answered").isEqualTo(1);
				assertThat(page.values()).extracting(PageValue::id)
					.extracting(Long::valueOf)
					.as("ids keep increasing across the restart")
					.isSorted();
				assertThat(Long.valueOf(after.get(after.size() - 1).id())).isGreaterThan(Long.valueOf(lastBefore.id()));
				assertThat(page.closed()).as("the EventSource was never CLOSED").isFalse();
				assertThat(page.states()).doesNotContain(2).startsWith(0, 1);
				browser.screenshot(Path.of("target", "live-page.png"));
			}
		}
	}

	@Test
	@Timeout(value = 3, unit = TimeUnit.MINUTES)
	void theLivePageSaysItIsLocalModeAndThatTheIndexStartsAgainAtARestart(@TempDir Path directory) throws Exception {
		try (ServiceProcess service = ServiceProcess.start(directory, PERIOD); Browser browser = Browser.start()) {
			service.awaitReady();
			browser.open(service.uri("/"));
			LivePage page = LivePage.await(browser, "the mode from the service's health",
					(current) -> current.mode() != null);
			assertThat(page.mode()).isEqualTo("local");
			assertThat(page.redis()).isNull();
			assertThat(browser.isDisplayed("mode")).isTrue();
			assertThat(browser.text("mode")).contains("local").doesNotContain("cluster");
			assertThat(browser.isDisplayed("about")).as("what holds in either mode").isTrue();
			assertThat(browser.isDisplayed("about-local")).as("the local mode's text").isTrue();
			assertThat(browser.text("about-local")).contains("index");
			assertThat(browser.isDisplayed("about-cluster")).as("the cluster mode's text").isFalse();
		}
	}

	@Test
	@Timeout(value = 3, unit = TimeUnit.MINUTES)
	void theLivePageWaitsForAFreeSlotWhenTheServiceIsFull(@TempDir Path directory) throws Exception {
		try (ServiceProcess service = ServiceProcess.start(directory, PERIOD, RECONNECT_DELAY,
				"--sequence.max-subscribers=1"); Browser browser = Browser.start()) {
			service.awaitReady();
			try (EventStream holder = EventStream.open(service.httpClient(), service.port(), "")) {
				assertThat(holder.response().statusCode()).isEqualTo(200);
				assertThat(holder.next()).extracting(Event::name).as("the only slot is taken").isEqualTo("value");
				browser.open(service.uri("/"));
				LivePage full = LivePage.await(browser, "busy events: turned away, and trying again",
						(page) -> page.count("busy") >= 2);
				assertThat(full.values()).isEmpty();
				assertThat(full.closed()).isFalse();
			}
			LivePage page = LivePage.await(browser, "values once the slot is free",
					(current) -> !current.values().isEmpty());
			assertThat(page.events()).startsWith("busy", "busy").endsWith("value");
			assertThat(page.closed()).as("the EventSource was never CLOSED").isFalse();
			assertThat(page.states()).doesNotContain(2);
		}
	}

	@Test
	@Timeout(value = 3, unit = TimeUnit.MINUTES)
	void aPageOnAnotherOriginReadsTheStreamWhenItsOriginIsAllowed(@TempDir Path directory) throws Exception {
		HttpServer allowed = pageServer();
		HttpServer notAllowed = pageServer();
		try (ServiceProcess service = ServiceProcess.start(directory, PERIOD, RECONNECT_DELAY,
				"--sequence.cors.allowed-origins=" + origin(allowed)); Browser browser = Browser.start()) {
			service.awaitReady();
			String stream = "?stream="
					+ URLEncoder.encode(service.uri("/sequence/stream").toString(), StandardCharsets.UTF_8);
			browser.open(URI.create(origin(allowed) + "/" + stream));
			LivePage page = LivePage.await(browser, "values on the allowed origin",
					(current) -> current.values().size() >= 2);
			assertThat(page.closed()).isFalse();
			browser.open(URI.create(origin(notAllowed) + "/" + stream));
			LivePage blocked = LivePage.await(browser, "the browser failing the stream for another origin",
					LivePage::closed);
			assertThat(blocked.values()).as("values read by a page whose origin is not allowed").isEmpty();
			assertThat(blocked.errors()).isPositive();
			// CORS covers /sequence/** only, so no other origin reads the service's
			// health:
			// the page then says nothing of the mode rather than guess it
			LivePage unasked = LivePage.await(browser, "the health request failing",
					(current) -> current.mode() != null);
			assertThat(unasked.mode()).isEqualTo("unknown");
			assertThat(browser.isDisplayed("mode")).isFalse();
			assertThat(browser.isDisplayed("about-local")).isFalse();
			assertThat(browser.isDisplayed("about-cluster")).isFalse();
			assertThat(browser.isDisplayed("about")).isTrue();
		}
		finally {
			allowed.stop(0);
			notAllowed.stop(0);
		}
	}

	/**
	 * A server on another origin (another port on loopback) that serves the live page at
	 * {@code /}, as a page of some other site would embed the stream.
	 */
	private static HttpServer pageServer() throws IOException {
		byte[] page = new ClassPathResource("page/index.html").getContentAsByteArray();
		HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
		server.createContext("/", (exchange) -> serve(exchange, page));
		server.start();
		return server;
	}

	private static void serve(HttpExchange exchange, byte[] page) throws IOException {
		try (OutputStream body = exchange.getResponseBody()) {
			if (exchange.getRequestURI().getPath().equals("/")) {
				exchange.getResponseHeaders().set("Content-Type", "text/html;charset=UTF-8");
				exchange.sendResponseHeaders(200, page.length);
				body.write(page);
			}
			else {
				exchange.sendResponseHeaders(404, -1);
			}
		}
		finally {
			exchange.close();
		}
	}

	private static String origin(HttpServer server) {
		return "http://127.0.0.1:" + server.getAddress().getPort();
	}

}

package com.example.gracefulsequence;

import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

import org.awaitility.Awaitility;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the live page at {@code /} recorded in {@code window.sequencePage}, read from a
 * {@link Browser} that shows it.
 *
 * @param values every value event in order
 * @param events the name of every event in order
 * @param states the {@code readyState} of its {@code EventSource} at each change
 * @param errors how many times the connection was lost or could not be made
 * @param closed whether the {@code EventSource} was ever {@code CLOSED}
 * @param instances how many times the page saw another instance answer
 * @param mode what the service's health said: {@code local}, {@code cluster},
 * {@code unknown} if it could not be asked; {@code null} while the page asks
 * @param redis the status of the {@code redis} health component in cluster mode
 * @author graceful-sequence contributors
 */
public record LivePage(List<PageValue> values, List<String> events, List<Integer> states, int errors, boolean closed,
		int instances, @Nullable String mode, @Nullable String redis) {

	/**
	 * How long {@link #await} waits at most.
	 */
	public static final Duration TIMEOUT = Duration.ofSeconds(20);

	private static final JsonMapper json = JsonMapper.builder().build();

	/**
	 * What the page in a browser has recorded so far.
	 * @param browser the browser that shows the live page
	 * @return the record
	 * @throws AssertionError if the page has not set it up
	 */
	public static LivePage read(Browser browser) {
		LivePage page = recorded(browser);
		assertThat(page).as("window.sequencePage").isNotNull();
		return page;
	}

	/**
	 * Wait, at most {@link #TIMEOUT}, until what the page recorded meets a condition.
	 * @param browser the browser that shows the live page
	 * @param description what is awaited, for the failure message
	 * @param condition the condition
	 * @return the record that met it
	 */
	public static LivePage await(Browser browser, String description, Predicate<LivePage> condition) {
		return Awaitility.await(description)
			.atMost(TIMEOUT)
			.pollInterval(Duration.ofMillis(100))
			.until(() -> recorded(browser), (page) -> page != null && condition.test(page));
	}

	private static @Nullable LivePage recorded(Browser browser) {
		String record = (String) browser.script("return JSON.stringify(window.sequencePage || null)");
		return json.readValue(record, LivePage.class);
	}

	/**
	 * How many events of a kind the page received.
	 * @param event the event's name, such as {@code shutdown}
	 * @return how many
	 */
	public long count(String event) {
		return this.events.stream().filter(event::equals).count();
	}

	/**
	 * One value event as the page recorded it.
	 *
	 * @param value the value
	 * @param index the index: per process, or in cluster mode the cluster's
	 * @param id the event id
	 * @param source {@code live} or {@code restored}
	 */
	public record PageValue(int value, long index, String id, String source) {

	}

}

package com.example.gracefulsequence;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The milestones of a graceful shutdown in the service's log, as the contract orders
 * them, to compare what a process or a test's captured output printed with what it should
 * have printed.
 *
 * @author graceful-sequence contributors
 */
public final class ShutdownLog {

	/**
	 * Shutdown step 1 ended.
	 */
	public static final String READINESS = "step 1 (readiness)";

	/**
	 * The handover step found nothing to hand over: cluster mode is off, or the instance
	 * does not lead.
	 */
	public static final String NOTHING_TO_HAND_OVER = "nothing to hand over";

	/**
	 * Shutdown step 2 ended.
	 */
	public static final String HANDOVER = "step 2 (handover)";

	/**
	 * Open streams were told about the shutdown.
	 */
	public static final String STREAMS_TOLD = "streams told";

	/**
	 * Shutdown step 3 ended.
	 */
	public static final String STREAMS = "step 3 (streams)";

	/**
	 * The drain delay began.
	 */
	public static final String SERVING_ON = "serving for the drain delay";

	/**
	 * Shutdown step 4 ended.
	 */
	public static final String DRAIN_DELAY = "step 4 (drain-delay)";

	/**
	 * Tomcat began its graceful shutdown.
	 */
	public static final String COMMENCING = "Tomcat commencing graceful shutdown";

	/**
	 * Shutdown step 5 ended.
	 */
	public static final String HTTP_DRAIN = "step 5 (http-drain)";

	/**
	 * The producer was told to stop.
	 */
	public static final String CLOSING_SEQUENCE = "Closing sequence";

	/**
	 * Shutdown step 6 ended.
	 */
	public static final String PRODUCER = "step 6 (producer)";

	/**
	 * The final value was saved.
	 */
	public static final String SAVED = "saved last value";

	/**
	 * Shutdown step 7 ended.
	 */
	public static final String STATE_FILE = "step 7 (state-file)";

	/**
	 * The whole shutdown ended.
	 */
	public static final String COMPLETED = "graceful shutdown completed";

	/**
	 * The goodbye.
	 */
	public static final String BYE = "bye";

	private static final Map<String, Pattern> MILESTONES = new LinkedHashMap<>();

	static {
		MILESTONES.put(READINESS, Pattern.compile("Shutdown step 1 \\(readiness\\) completed in \\d+ ms"));
		MILESTONES.put(NOTHING_TO_HAND_OVER, Pattern.compile("Nothing to hand over: .+"));
		MILESTONES.put(HANDOVER, Pattern.compile("Shutdown step 2 \\(handover\\) completed in \\d+ ms"));
		MILESTONES.put(STREAMS_TOLD,
				Pattern.compile("Told \\d+ open stream\\(s\\) that the service is shutting down.*"));
		MILESTONES.put(STREAMS, Pattern.compile("Shutdown step 3 \\(streams\\) completed in \\d+ ms"));
		MILESTONES.put(SERVING_ON, Pattern.compile("Serving for another \\d+ ms before draining HTTP requests"));
		MILESTONES.put(DRAIN_DELAY, Pattern.compile("Shutdown step 4 \\(drain-delay\\) completed in \\d+ ms"));
		MILESTONES.put(COMMENCING,
				Pattern.compile("Commencing graceful shutdown\\. Waiting for active requests to complete"));
		MILESTONES.put(HTTP_DRAIN, Pattern.compile("Shutdown step 5 \\(http-drain\\) completed in \\d+ ms"));
		MILESTONES.put(CLOSING_SEQUENCE, Pattern.compile("Closing sequence"));
		MILESTONES.put(PRODUCER, Pattern.compile("Shutdown step 6 \\(producer\\) completed in \\d+ ms"));
		MILESTONES.put(SAVED, Pattern.compile("Saved last value \\d+ to state file .+"));
		MILESTONES.put(STATE_FILE, Pattern.compile("Shutdown step 7 \\(state-file\\) completed in \\d+ ms"));
		MILESTONES.put(COMPLETED, Pattern.compile("Graceful shutdown completed in \\d+ ms"));
		MILESTONES.put(BYE, Pattern.compile("I'm leaving, bye!"));
	}

	private ShutdownLog() {
	}

	/**
	 * The shutdown milestones among the given log messages, in the order they were
	 * logged.
	 * @param messages the log messages
	 * @return the milestones, one entry per matching message
	 */
	public static List<String> milestones(List<String> messages) {
		List<String> found = new ArrayList<>();
		for (String message : messages) {
			MILESTONES.forEach((name, pattern) -> {
				if (pattern.matcher(message).matches()) {
					found.add(name);
				}
			});
		}
		return found;
	}

	/**
	 * The shutdown milestones in captured output, in the order they were logged: what
	 * {@link #milestones(List)} finds among the {@link #messages(CharSequence) messages}
	 * of the output.
	 * @param output the output, such as the {@code CapturedOutput} of Spring Boot's
	 * {@code OutputCaptureExtension}
	 * @return the milestones, one entry per matching message
	 */
	public static List<String> milestones(CharSequence output) {
		return milestones(messages(output));
	}

	/**
	 * The log messages in captured output: each line without the timestamp, level, thread
	 * and logger, as {@link ServiceProcess#messages()} gives them for a process.
	 * @param output the output
	 * @return the messages, one per line
	 */
	public static List<String> messages(CharSequence output) {
		return output.toString().lines().map(ServiceProcess::message).toList();
	}

	/**
	 * The position of the first message that starts with the given text, to compare when
	 * two messages were logged.
	 * @param messages the log messages
	 * @param prefix the start of the message
	 * @return the index of the message
	 * @throws AssertionError if no message starts with the text
	 */
	public static int indexOf(List<String> messages, String prefix) {
		for (int i = 0; i < messages.size(); i++) {
			if (messages.get(i).startsWith(prefix)) {
				return i;
			}
		}
		throw new AssertionError("No log message starts with '" + prefix + "' in " + messages);
	}

	/**
	 * The milestones of a complete graceful shutdown in contract order, each once.
	 * @param streamsOpen whether streams were open when the shutdown started
	 * @param drainDelay whether a drain delay is configured
	 * @return the expected milestones
	 */
	public static List<String> expected(boolean streamsOpen, boolean drainDelay) {
		List<String> expected = new ArrayList<>(MILESTONES.keySet());
		if (!streamsOpen) {
			expected.remove(STREAMS_TOLD);
		}
		if (!drainDelay) {
			expected.remove(SERVING_ON);
		}
		return expected;
	}

	/**
	 * The milestones that closing the application context logs in contract order, each
	 * once: those of {@link #expected(boolean, boolean)} but the goodbye, which only the
	 * exit of the JVM logs. For tests that close the context in their own JVM.
	 * @param streamsOpen whether streams were open when the shutdown started
	 * @param drainDelay whether a drain delay is configured
	 * @return the expected milestones
	 */
	public static List<String> expectedOnClose(boolean streamsOpen, boolean drainDelay) {
		List<String> expected = expected(streamsOpen, drainDelay);
		expected.remove(BYE);
		return expected;
	}

	/**
	 * The duration a step logged, in milliseconds.
	 * @param messages the log messages
	 * @param step the number of the step
	 * @return the duration, or {@code -1} if the step did not log
	 */
	public static long stepMillis(List<String> messages, int step) {
		Pattern pattern = Pattern.compile("Shutdown step " + step + " \\(.+\\) completed in (\\d+) ms");
		return messages.stream()
			.map(pattern::matcher)
			.filter(Matcher::matches)
			.mapToLong((matcher) -> Long.parseLong(matcher.group(1)))
			.findFirst()
			.orElse(-1);
	}

}

package com.example.gracefulsequence.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A systemd unit file, read into its sections and settings, and the helpers to read what
 * goes with it: time spans and environment files.
 *
 * @author graceful-sequence contributors
 */
final class SystemdUnit {

	private static final Pattern TIME_SPAN_PART = Pattern.compile("(\\d+)\\s*([a-z]*)\\s*");

	private final Map<String, Map<String, List<String>>> sections;

	private SystemdUnit(Map<String, Map<String, List<String>>> sections) {
		this.sections = sections;
	}

	static SystemdUnit read(Path path) throws IOException {
		Map<String, Map<String, List<String>>> sections = new LinkedHashMap<>();
		Map<String, List<String>> section = null;
		for (String line : joinContinuations(Files.readAllLines(path))) {
			if (line.startsWith("[") && line.endsWith("]")) {
				section = sections.computeIfAbsent(line.substring(1, line.length() - 1),
						(name) -> new LinkedHashMap<>());
				continue;
			}
			int equals = line.indexOf('=');
			if (section == null || equals < 0) {
				throw new IllegalArgumentException(path + ": not a setting in a section: " + line);
			}
			section.computeIfAbsent(line.substring(0, equals).strip(), (key) -> new ArrayList<>())
				.add(line.substring(equals + 1).strip());
		}
		return new SystemdUnit(sections);
	}

	/**
	 * The value of a setting, the last one if it is given more than once.
	 * @param section the section, e.g. {@code Service}
	 * @param key the setting, e.g. {@code KillSignal}
	 * @return the value, if set
	 */
	Optional<String> value(String section, String key) {
		List<String> values = this.sections.getOrDefault(section, Map.of()).getOrDefault(key, List.of());
		return (values.isEmpty()) ? Optional.empty() : Optional.of(values.get(values.size() - 1));
	}

	/**
	 * Parse a systemd time span such as {@code 75}, {@code 75s} or {@code 1min 15s}.
	 * @param span the time span
	 * @return the duration
	 */
	static Duration timeSpan(String span) {
		if (span.strip().matches("\\d+")) {
			return Duration.ofSeconds(Long.parseLong(span.strip()));
		}
		Matcher matcher = TIME_SPAN_PART.matcher(span.strip());
		Duration total = Duration.ZERO;
		int end = 0;
		while (matcher.lookingAt()) {
			long amount = Long.parseLong(matcher.group(1));
			Duration part = switch (matcher.group(2)) {
				case "us", "usec" -> Duration.ofNanos(amount * 1000);
				case "ms", "msec" -> Duration.ofMillis(amount);
				case "", "s", "sec", "second", "seconds" -> Duration.ofSeconds(amount);
				case "m", "min", "minute", "minutes" -> Duration.ofMinutes(amount);
				case "h", "hr", "hour", "hours" -> Duration.ofHours(amount);
				default -> throw new IllegalArgumentException("Unknown unit in time span " + span);
			};
			total = total.plus(part);
			end = matcher.end();
			matcher.region(end, span.strip().length());
		}
		if (end != span.strip().length()) {
			throw new IllegalArgumentException("Not a time span: " + span);
		}
		return total;
	}

	/**
	 * Read an environment file as systemd's {@code EnvironmentFile=} does, for the simple
	 * {@code KEY=VALUE} lines it is meant to hold.
	 * @param path the environment file
	 * @return the variables by name
	 * @throws IOException if the file cannot be read
	 */
	static Map<String, String> environmentFile(Path path) throws IOException {
		Map<String, String> variables = new LinkedHashMap<>();
		for (String line : joinContinuations(Files.readAllLines(path))) {
			int equals = line.indexOf('=');
			if (equals < 0) {
				throw new IllegalArgumentException(path + ": not KEY=VALUE: " + line);
			}
			variables.put(line.substring(0, equals).strip(), Quoting.unquote(line.substring(equals + 1).strip()));
		}
		return variables;
	}

	private static List<String> joinContinuations(List<String> lines) {
		List<String> joined = new ArrayList<>();
		StringBuilder current = new StringBuilder();
		for (String line : lines) {
			String trimmed = line.strip();
			if (current.isEmpty() && (trimmed.isEmpty() || trimmed.startsWith("#") || trimmed.startsWith(";"))) {
				continue;
			}
			if (trimmed.endsWith("\\")) {
				current.append(trimmed, 0, trimmed.length() - 1).append(' ');
				continue;
			}
			joined.add(current.append(trimmed).toString().strip());
			current.setLength(0);
		}
		return joined;
	}

}

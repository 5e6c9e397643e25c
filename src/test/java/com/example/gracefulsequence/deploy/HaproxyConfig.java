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
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An HAProxy configuration file, read into its sections and their lines of words, and the
 * helpers to read what the lines say: time values and server parameters.
 *
 * @author graceful-sequence contributors
 */
final class HaproxyConfig {

	private static final Set<String> SECTION_KEYWORDS = Set.of("global", "defaults", "frontend", "backend", "listen",
			"userlist", "peers", "resolvers", "mailers", "program", "http-errors", "ring", "cache");

	private static final Pattern TIME = Pattern.compile("(\\d+)(us|ms|s|m|h|d)?");

	private final List<Section> sections;

	private HaproxyConfig(List<Section> sections) {
		this.sections = sections;
	}

	static HaproxyConfig read(Path path) throws IOException {
		List<Section> sections = new ArrayList<>();
		for (String line : Files.readAllLines(path)) {
			List<String> words = words(line);
			if (words.isEmpty()) {
				continue;
			}
			if (SECTION_KEYWORDS.contains(words.get(0))) {
				sections.add(new Section(words.get(0), (words.size() > 1) ? words.get(1) : "", new ArrayList<>()));
				continue;
			}
			if (sections.isEmpty()) {
				throw new IllegalArgumentException(path + ": a setting outside any section: " + line);
			}
			sections.get(sections.size() - 1).lines().add(words);
		}
		return new HaproxyConfig(sections);
	}

	/**
	 * The only section of a kind and name.
	 * @param keyword the kind, e.g. {@code backend}
	 * @param name the name
	 * @return the section
	 */
	Section section(String keyword, String name) {
		List<Section> found = this.sections.stream()
			.filter((section) -> section.keyword().equals(keyword) && section.name().equals(name))
			.toList();
		if (found.size() != 1) {
			throw new AssertionError("Expected one " + keyword + " " + name + " section, found " + found.size());
		}
		return found.get(0);
	}

	/**
	 * The sections of a kind, in the order of the file.
	 * @param keyword the kind, e.g. {@code frontend}
	 * @return the sections
	 */
	List<Section> sections(String keyword) {
		return this.sections.stream().filter((section) -> section.keyword().equals(keyword)).toList();
	}

	/**
	 * The last line of a proxy section that starts with the given words, or else the last
	 * such line of the (unnamed) defaults section, as HAProxy inherits it.
	 * @param section the proxy section
	 * @param prefix the first words, e.g. {@code timeout server}
	 * @return the line, if any
	 */
	Optional<List<String>> effective(Section section, String... prefix) {
		return section.last(prefix)
			.or(() -> sections("defaults").stream()
				.filter((defaults) -> defaults.name().isEmpty())
				.reduce((first, second) -> second)
				.flatMap((defaults) -> defaults.last(prefix)));
	}

	/**
	 * The value of a timeout that applies to a proxy section.
	 * @param section the proxy section
	 * @param name the timeout, e.g. {@code server}
	 * @return its value, if set
	 */
	Optional<Duration> timeout(Section section, String name) {
		return effective(section, "timeout", name).map((line) -> time(line.get(2)));
	}

	/**
	 * The parameters of a server: those of {@code default-server} in its backend,
	 * overridden by its own. A flag such as {@code check} maps to an empty string.
	 * @param backend the backend
	 * @param server the server line
	 * @return the parameters by name
	 */
	Map<String, String> serverParameters(Section backend, List<String> server) {
		Map<String, String> parameters = new LinkedHashMap<>();
		effective(backend, "default-server").ifPresent((line) -> parameters(line, 1, parameters));
		parameters(server, 3, parameters);
		return parameters;
	}

	/**
	 * Parse an HAProxy time value: a number with an optional unit, milliseconds by
	 * default.
	 * @param value the value, e.g. {@code 75s} or {@code 500}
	 * @return the duration
	 */
	static Duration time(String value) {
		Matcher matcher = TIME.matcher(value);
		if (!matcher.matches()) {
			throw new IllegalArgumentException("Not an HAProxy time value: " + value);
		}
		long amount = Long.parseLong(matcher.group(1));
		String unit = (matcher.group(2) != null) ? matcher.group(2) : "ms";
		return switch (unit) {
			case "us" -> Duration.ofNanos(amount * 1000);
			case "ms" -> Duration.ofMillis(amount);
			case "s" -> Duration.ofSeconds(amount);
			case "m" -> Duration.ofMinutes(amount);
			case "h" -> Duration.ofHours(amount);
			default -> Duration.ofDays(amount);
		};
	}

	// The server keywords that take no value; every other one takes the next word
	private static final Set<String> FLAGS = Set.of("check", "no-check", "backup", "no-backup", "disabled", "enabled",
			"ssl", "no-ssl", "send-proxy", "send-proxy-v2", "agent-check", "no-agent-check", "non-stick", "stick",
			"check-ssl", "no-check-ssl", "check-send-proxy", "tfo", "allow-0rtt", "no-tfo");

	private static void parameters(List<String> line, int start, Map<String, String> parameters) {
		for (int i = start; i < line.size(); i++) {
			String keyword = line.get(i);
			if (FLAGS.contains(keyword) || i + 1 == line.size()) {
				parameters.put(keyword, "");
			}
			else {
				parameters.put(keyword, line.get(++i));
			}
		}
	}

	// Words of a line without its comment, as HAProxy splits them: double quotes keep
	// spaces and a '#' in a word, and a backslash escapes the next character (\n a
	// newline)
	private static List<String> words(String line) {
		List<String> words = new ArrayList<>();
		StringBuilder word = null;
		boolean quoted = false;
		for (int i = 0; i < line.length(); i++) {
			char c = line.charAt(i);
			if (c == '\\' && i + 1 < line.length()) {
				char next = line.charAt(++i);
				word = (word != null) ? word : new StringBuilder();
				word.append((next == 'n') ? '\n' : (next == 'r') ? '\r' : (next == 't') ? '\t' : next);
			}
			else if (c == '"') {
				quoted = !quoted;
				word = (word != null) ? word : new StringBuilder();
			}
			else if (!quoted && c == '#') {
				break;
			}
			else if (!quoted && Character.isWhitespace(c)) {
				if (word != null) {
					words.add(word.toString());
					word = null;
				}
			}
			else {
				word = (word != null) ? word : new StringBuilder();
				word.append(c);
			}
		}
		if (word != null) {
			words.add(word.toString());
		}
		return words;
	}

	/**
	 * One section: its kind, its name and its lines, each split into words.
	 *
	 * @param keyword the kind, e.g. {@code backend}
	 * @param name the name, empty for an unnamed section
	 * @param lines the lines
	 */
	record Section(String keyword, String name, List<List<String>> lines) {

		/**
		 * The lines that start with the given words.
		 * @param prefix the first words
		 * @return the lines
		 */
		List<List<String>> all(String... prefix) {
			List<String> start = List.of(prefix);
			return this.lines.stream()
				.filter((line) -> line.size() >= start.size() && line.subList(0, start.size()).equals(start))
				.toList();
		}

		/**
		 * The last line that starts with the given words.
		 * @param prefix the first words
		 * @return the line, if any
		 */
		Optional<List<String>> last(String... prefix) {
			List<List<String>> found = all(prefix);
			return (found.isEmpty()) ? Optional.empty() : Optional.of(found.get(found.size() - 1));
		}

	}

}

package com.example.gracefulsequence.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Redis configuration file ({@code redis.conf}), read into its directives: one a line,
 * the directive's name (case does not matter to Redis) and then its arguments.
 *
 * @author graceful-sequence contributors
 */
public final class RedisConfig {

	/**
	 * The shipped file.
	 */
	static final Path SHIPPED = Path.of("deploy", "redis", "redis.conf");

	/**
	 * The directives that the shipped file gives as comments for a primary with replicas
	 * (a lone Redis must not have them).
	 */
	static final Set<String> REPLICATION = Set.of("min-replicas-to-write", "min-replicas-max-lag", "replica-priority");

	private static final Pattern DIRECTIVE = Pattern.compile("(\\S+)\\s+(.*)");

	private static final Pattern COMMENTED = Pattern.compile("#\\s(\\S+)\\s+\\S.*");

	// Redis' units: k, m, g are powers of 1000, kb, mb, gb powers of 1024
	private static final Pattern MEMORY = Pattern.compile("(\\d+)(k|kb|m|mb|g|gb)?");

	private final Map<String, String> directives;

	private RedisConfig(Map<String, String> directives) {
		this.directives = directives;
	}

	/**
	 * Read a configuration. A directive given more than once keeps its last value, as
	 * Redis does for those the sequence needs.
	 * @param text the configuration
	 * @return its directives
	 */
	static RedisConfig parse(String text) {
		Map<String, String> directives = new LinkedHashMap<>();
		for (String line : text.lines().map(String::strip).toList()) {
			if (line.isEmpty() || line.startsWith("#")) {
				continue;
			}
			Matcher directive = DIRECTIVE.matcher(line);
			if (!directive.matches()) {
				throw new IllegalArgumentException("A directive without an argument: " + line);
			}
			directives.put(directive.group(1).toLowerCase(Locale.ROOT), directive.group(2).strip());
		}
		return new RedisConfig(directives);
	}

	/**
	 * Read the directives that a configuration gives as comments, for a reader to
	 * uncomment where they apply (such as {@code # min-replicas-to-write 1}): each line
	 * that is a comment mark, a space and one of the named directives with its arguments.
	 * @param text the configuration
	 * @param names the directives to look for
	 * @return those of them given as comments
	 */
	static RedisConfig parseCommented(String text, Set<String> names) {
		StringBuilder uncommented = new StringBuilder();
		for (String line : text.lines().map(String::strip).toList()) {
			Matcher directive = COMMENTED.matcher(line);
			if (directive.matches() && names.contains(directive.group(1).toLowerCase(Locale.ROOT))) {
				uncommented.append(line.substring(1).strip()).append('\n');
			}
		}
		return parse(uncommented.toString());
	}

	/**
	 * The lines that the shipped file gives as comments for the data nodes of a Sentinel
	 * set: {@code min-replicas-to-write}, {@code min-replicas-max-lag},
	 * {@code replica-priority}.
	 * @return those directives
	 */
	public static RedisConfig shippedReplication() {
		try {
			return parseCommented(Files.readString(SHIPPED), REPLICATION);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	/**
	 * The directives as {@code redis-server} takes them on its command line.
	 * @return {@code --name value} for each, in order
	 */
	public List<String> arguments() {
		List<String> arguments = new ArrayList<>();
		this.directives.forEach((name, value) -> {
			arguments.add("--" + name);
			arguments.add(value);
		});
		return arguments;
	}

	/**
	 * Every directive with its arguments, as written.
	 * @return the directives, by lower-case name
	 */
	Map<String, String> directives() {
		return this.directives;
	}

	/**
	 * The arguments of a directive, as written.
	 * @param name the directive, e.g. {@code appendonly}
	 * @return its arguments, if the configuration sets it
	 */
	Optional<String> get(String name) {
		return Optional.ofNullable(this.directives.get(name));
	}

	/**
	 * A memory size in bytes, written as Redis reads it (e.g. {@code 128mb}).
	 * @param name the directive, e.g. {@code maxmemory}
	 * @return the size, if the configuration sets it
	 */
	Optional<Long> bytes(String name) {
		return get(name).map((value) -> {
			Matcher size = MEMORY.matcher(value.toLowerCase(Locale.ROOT));
			if (!size.matches()) {
				throw new IllegalArgumentException(name + " is not a memory size: " + value);
			}
			long amount = Long.parseLong(size.group(1));
			String unit = (size.group(2) != null) ? size.group(2) : "";
			return switch (unit) {
				case "k" -> amount * 1000;
				case "kb" -> amount * 1024;
				case "m" -> amount * 1000 * 1000;
				case "mb" -> amount * 1024 * 1024;
				case "g" -> amount * 1000 * 1000 * 1000;
				case "gb" -> amount * 1024 * 1024 * 1024;
				default -> amount;
			};
		});
	}

}

package com.example.gracefulsequence.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A Redis Sentinel configuration file ({@code sentinel.conf}) for one primary: the
 * primary it watches ({@code sentinel monitor <name> <host> <port> <quorum>}), the
 * options of that primary ({@code sentinel <option> <name> <value>}), and the Sentinel's
 * own directives, such as {@code port}.
 *
 * @author graceful-sequence contributors
 */
public final class SentinelConfig {

	/**
	 * The shipped file.
	 */
	static final Path FILE = Path.of("deploy", "redis", "sentinel.conf");

	/**
	 * Sentinel's port when the file does not set one.
	 */
	static final int DEFAULT_PORT = 26379;

	private final String text;

	private final List<String> monitor;

	private final Map<String, String> options;

	private final RedisConfig directives;

	private SentinelConfig(String text, List<String> monitor, Map<String, String> options, RedisConfig directives) {
		this.text = text;
		this.monitor = monitor;
		this.options = options;
		this.directives = directives;
	}

	/**
	 * Read the shipped file.
	 * @return its settings
	 * @throws UncheckedIOException if it cannot be read
	 */
	public static SentinelConfig read() {
		try {
			return parse(Files.readString(FILE));
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	/**
	 * Read a configuration that watches one primary.
	 * @param text the configuration
	 * @return its settings
	 */
	static SentinelConfig parse(String text) {
		List<String> monitor = null;
		Map<String, String> options = new LinkedHashMap<>();
		StringBuilder others = new StringBuilder();
		for (String line : text.lines().map(String::strip).toList()) {
			List<String> words = List.of(line.split("\\s+"));
			if (line.isEmpty() || line.startsWith("#") || !words.get(0).equalsIgnoreCase("sentinel")) {
				others.append(line).append('\n');
			}
			else if (words.get(1).equalsIgnoreCase("monitor")) {
				if (monitor != null) {
					throw new IllegalArgumentException("More than one primary: " + line);
				}
				monitor = words.subList(2, words.size());
			}
			else if (words.size() == 4) {
				// sentinel <option> <primary> <value>
				options.put(words.get(1).toLowerCase(Locale.ROOT) + " " + words.get(2), words.get(3));
			}
			else {
				options.put(words.get(1).toLowerCase(Locale.ROOT), String.join(" ", words.subList(2, words.size())));
			}
		}
		if (monitor == null || monitor.size() != 4) {
			throw new IllegalArgumentException("No 'sentinel monitor <name> <host> <port> <quorum>'");
		}
		return new SentinelConfig(text, monitor, options, RedisConfig.parse(others.toString()));
	}

	/**
	 * The name the clients ask for, {@code spring.data.redis.sentinel.master}.
	 * @return the primary's name
	 */
	public String primary() {
		return this.monitor.get(0);
	}

	/**
	 * How many Sentinels must find the primary down before a failover starts.
	 * @return the quorum
	 */
	public int quorum() {
		return Integer.parseInt(this.monitor.get(3));
	}

	/**
	 * An option of the primary, such as {@code down-after-milliseconds}.
	 * @param name the option
	 * @return its value, if the file sets it for the primary
	 */
	public Optional<String> option(String name) {
		return Optional.ofNullable(this.options.get(name + " " + primary()));
	}

	/**
	 * A directive of the Sentinel itself, such as {@code port}, or
	 * {@code resolve-hostnames} (a {@code sentinel} directive without a primary).
	 * @param name the directive
	 * @return its arguments, if the file sets it
	 */
	Optional<String> directive(String name) {
		return this.directives.get(name).or(() -> Optional.ofNullable(this.options.get(name)));
	}

	/**
	 * The port the Sentinel listens on.
	 * @return the port
	 */
	int port() {
		return this.directives.get("port").map(Integer::parseInt).orElse(DEFAULT_PORT);
	}

	/**
	 * The same file, watching a primary at another address and listening on another port,
	 * as a test runs it.
	 * @param host the primary's host
	 * @param primaryPort the primary's port
	 * @param port the Sentinel's port
	 * @return the configuration's text
	 */
	public String watching(String host, int primaryPort, int port) {
		StringBuilder result = new StringBuilder();
		boolean portSet = false;
		for (String line : this.text.lines().toList()) {
			String stripped = line.strip();
			if (stripped.startsWith("sentinel monitor ")) {
				result.append(String.join(" ", "sentinel", "monitor", primary(), host, Integer.toString(primaryPort),
						Integer.toString(quorum())));
			}
			else if (stripped.startsWith("port ")) {
				result.append("port ").append(port);
				portSet = true;
			}
			else {
				result.append(line);
			}
			result.append('\n');
		}
		if (!portSet) {
			result.append("port ").append(port).append('\n');
		}
		return result.toString();
	}

}

package com.example.gracefulsequence.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An nginx configuration file, read into its directives and blocks, and the helpers to
 * read what they say: time values, and the directives that apply in a block as nginx
 * inherits them.
 *
 * @author graceful-sequence contributors
 */
final class NginxConfig {

	private static final Pattern TIME = Pattern.compile("((\\d+)(ms|s|m|h|d)?)+");

	private static final Pattern TIME_PART = Pattern.compile("(\\d+)(ms|s|m|h|d)?");

	private final Directive main;

	private NginxConfig(Directive main) {
		this.main = main;
	}

	static NginxConfig read(Path path) throws IOException {
		return parse(Files.readString(path), path.toString());
	}

	static NginxConfig parse(String text, String name) {
		Directive main = new Directive("", List.of(), new ArrayList<>());
		Deque<Directive> open = new ArrayDeque<>();
		open.push(main);
		List<String> words = new ArrayList<>();
		int i = 0;
		while (i < text.length()) {
			char c = text.charAt(i);
			if (c == '#') {
				while (i < text.length() && text.charAt(i) != '\n') {
					i++;
				}
			}
			else if (Character.isWhitespace(c)) {
				i++;
			}
			else if (c == ';' || c == '{') {
				if (words.isEmpty()) {
					throw new IllegalArgumentException(name + ": '" + c + "' without a directive");
				}
				Directive directive = new Directive(words.get(0), List.copyOf(words.subList(1, words.size())),
						(c == '{') ? new ArrayList<>() : null);
				open.peek().children().add(directive);
				if (c == '{') {
					open.push(directive);
				}
				words.clear();
				i++;
			}
			else if (c == '}') {
				if (!words.isEmpty() || open.size() == 1) {
					throw new IllegalArgumentException(name + ": unexpected '}' after " + words);
				}
				open.pop();
				i++;
			}
			else if (c == '"' || c == '\'') {
				int end = text.indexOf(c, i + 1);
				if (end < 0) {
					throw new IllegalArgumentException(name + ": unterminated quote");
				}
				words.add(text.substring(i + 1, end));
				i = end + 1;
			}
			else {
				int start = i;
				while (i < text.length() && !Character.isWhitespace(text.charAt(i))
						&& ";{}#".indexOf(text.charAt(i)) < 0) {
					i++;
				}
				words.add(text.substring(start, i));
			}
		}
		if (open.size() != 1 || !words.isEmpty()) {
			throw new IllegalArgumentException(name + ": a block or a directive is not closed");
		}
		return new NginxConfig(main);
	}

	/**
	 * The top of the file: the main context.
	 * @return the main context as a block
	 */
	Directive main() {
		return this.main;
	}

	/**
	 * Parse an nginx time value, such as {@code 75s}, {@code 500ms} or {@code 1m30s};
	 * seconds without a unit.
	 * @param value the value
	 * @return the duration
	 */
	static Duration time(String value) {
		if (!TIME.matcher(value).matches()) {
			throw new IllegalArgumentException("Not an nginx time value: " + value);
		}
		Duration total = Duration.ZERO;
		Matcher part = TIME_PART.matcher(value);
		while (part.find()) {
			long amount = Long.parseLong(part.group(1));
			String unit = (part.group(2) != null) ? part.group(2) : "s";
			Duration amountOf = switch (unit) {
				case "ms" -> Duration.ofMillis(amount);
				case "s" -> Duration.ofSeconds(amount);
				case "m" -> Duration.ofMinutes(amount);
				case "h" -> Duration.ofHours(amount);
				default -> Duration.ofDays(amount);
			};
			total = total.plus(amountOf);
		}
		return total;
	}

	/**
	 * A directive: its name, its arguments (quotes removed) and, for a block, the
	 * directives inside it.
	 *
	 * @param name the name, e.g. {@code proxy_read_timeout}
	 * @param arguments the arguments
	 * @param children the directives of a block, {@code null} for a simple directive
	 */
	record Directive(String name, List<String> arguments, List<Directive> children) {

		/**
		 * The only block of a name (and first arguments) inside this one.
		 * @param name the name, e.g. {@code upstream}
		 * @param arguments its first arguments, e.g. {@code graceful-sequence}
		 * @return the block
		 */
		Directive block(String name, String... arguments) {
			List<Directive> found = all(name).stream()
				.filter((directive) -> directive.children() != null)
				.filter((directive) -> directive.arguments().size() >= arguments.length
						&& directive.arguments().subList(0, arguments.length).equals(List.of(arguments)))
				.toList();
			if (found.size() != 1) {
				throw new AssertionError("Expected one " + name + " " + String.join(" ", arguments) + " block in '"
						+ this.name + "', found " + found.size());
			}
			return found.get(0);
		}

		/**
		 * The directives of a name directly in this block, in the order of the file.
		 * @param name the name
		 * @return the directives
		 */
		List<Directive> all(String name) {
			return (this.children != null)
					? this.children.stream().filter((directive) -> directive.name().equals(name)).toList() : List.of();
		}

		/**
		 * The arguments of the only directive of a name directly in this block.
		 * @param name the name
		 * @return its arguments, if it is there
		 */
		Optional<List<String>> value(String name) {
			List<Directive> found = all(name);
			if (found.size() > 1) {
				throw new AssertionError(name + " appears " + found.size() + " times in '" + this.name + "'");
			}
			return found.stream().findFirst().map(Directive::arguments);
		}

		/**
		 * The arguments of a directive as it applies in a nested block: its own, else
		 * those of the nearest enclosing block that sets it, as nginx inherits
		 * {@code proxy_*} settings.
		 * @param name the name
		 * @param enclosing the enclosing blocks, innermost first (this block excluded)
		 * @return its arguments, if set anywhere on the way
		 */
		Optional<List<String>> effective(String name, Directive... enclosing) {
			Optional<List<String>> own = value(name);
			for (Directive block : enclosing) {
				if (own.isPresent()) {
					return own;
				}
				own = block.value(name);
			}
			return own;
		}

	}

}

package com.example.gracefulsequence.deploy;

import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.example.gracefulsequence.ClusterSeries;

/**
 * What deployment tests need to know of a PromQL expression: the series it selects, and
 * the same expression with each comparison made a {@code bool} one, which returns a
 * series wherever its operands have one, whether the condition holds or not.
 *
 * @author graceful-sequence contributors
 */
final class PromQl {

	// A selector with label matchers; every query of the service's meters has one
	private static final Pattern SELECTOR = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)\\s*\\{");

	// up, the one series that Prometheus adds itself, without matchers
	private static final Pattern UP = Pattern.compile("(?<![a-zA-Z0-9_:])up(?![a-zA-Z0-9_:({])");

	private static final Pattern COMPARISON = Pattern.compile("(==|!=|>=|<=|>|<)(?!\\s*bool\\b)");

	private PromQl() {
	}

	/**
	 * The metric names that an expression selects.
	 * @param expression the expression
	 * @return the names, in order of appearance
	 */
	static Set<String> metricNames(String expression) {
		Set<String> names = new LinkedHashSet<>();
		Matcher selector = SELECTOR.matcher(expression);
		while (selector.find()) {
			names.add(selector.group(1));
		}
		if (UP.matcher(outsideBraces(expression)).find()) {
			names.add("up");
		}
		return names;
	}

	/**
	 * Whether an expression selects a series that only cluster mode exposes, which a
	 * scrape of an instance in local mode cannot have.
	 * @param expression the expression
	 * @return whether it selects one of {@link ClusterSeries}' series
	 */
	static boolean readsClusterSeries(String expression) {
		return metricNames(expression).stream().anyMatch(ClusterSeries::isClusterOnly);
	}

	/**
	 * The expression with every comparison outside label matchers as a {@code bool}
	 * comparison.
	 * @param expression the expression
	 * @return the expression that returns a series wherever the comparison is evaluated
	 */
	static String withBoolComparisons(String expression) {
		StringBuilder result = new StringBuilder();
		int depth = 0;
		boolean quoted = false;
		for (int i = 0; i < expression.length(); i++) {
			char c = expression.charAt(i);
			if (c == '"' && (i == 0 || expression.charAt(i - 1) != '\\')) {
				quoted = !quoted;
			}
			else if (!quoted && c == '{') {
				depth++;
			}
			else if (!quoted && c == '}') {
				depth--;
			}
			if (!quoted && depth == 0) {
				Matcher comparison = COMPARISON.matcher(expression).region(i, expression.length());
				if (comparison.lookingAt()) {
					result.append(comparison.group(1)).append(" bool");
					i += comparison.group(1).length() - 1;
					continue;
				}
			}
			result.append(c);
		}
		return result.toString();
	}

	private static String outsideBraces(String expression) {
		return expression.replaceAll("\\{[^}]*}", "{}");
	}

}

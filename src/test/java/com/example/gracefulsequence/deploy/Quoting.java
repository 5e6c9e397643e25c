package com.example.gracefulsequence.deploy;

/**
 * Values in deployment files that may stand in quotes: a systemd environment file and a
 * Dockerfile's {@code ENV} both allow them.
 *
 * @author graceful-sequence contributors
 */
final class Quoting {

	private Quoting() {
	}

	/**
	 * The value without the matching single or double quotes around it.
	 * @param value the value as written
	 * @return the value inside its quotes, or the value as written if it does not stand
	 * in matching quotes
	 */
	static String unquote(String value) {
		boolean quoted = value.length() > 1 && (value.charAt(0) == '"' || value.charAt(0) == '\'')
				&& value.charAt(value.length() - 1) == value.charAt(0);
		return (quoted) ? value.substring(1, value.length() - 1) : value;
	}

}

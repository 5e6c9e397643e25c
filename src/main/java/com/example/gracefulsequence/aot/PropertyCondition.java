package com.example.gracefulsequence.aot;

import java.util.Objects;

import org.jspecify.annotations.Nullable;

/**
 * How a condition of an auto-configuration reads a property: as
 * {@code @ConditionalOnProperty} does, or, where it reads it otherwise, any change may
 * decide it otherwise.
 *
 * @param havingValue the value it expects; empty: any value but {@code false}
 * @param matchIfMissing whether it matches when the property is unset
 * @param anyChange whether any change of the value may decide it otherwise
 * @author graceful-sequence contributors
 */
record PropertyCondition(String havingValue, boolean matchIfMissing,
		boolean anyChange) implements Comparable<PropertyCondition> {

	static final PropertyCondition ANY_CHANGE = new PropertyCondition("", false, true);

	PropertyCondition(String havingValue, boolean matchIfMissing) {
		this(havingValue, matchIfMissing, false);
	}

	boolean decidesOtherwise(@Nullable String built, @Nullable String now) {
		return this.anyChange ? !Objects.equals(built, now) : matches(built) != matches(now);
	}

	// As Spring Boot's OnPropertyCondition
	private boolean matches(@Nullable String value) {
		if (value == null) {
			return this.matchIfMissing;
		}
		return this.havingValue.isEmpty() ? !"false".equalsIgnoreCase(value) : this.havingValue.equalsIgnoreCase(value);
	}

	String toText() {
		return this.anyChange ? "*" : this.havingValue + "|" + this.matchIfMissing;
	}

	static PropertyCondition fromText(String text) {
		if (text.equals("*")) {
			return ANY_CHANGE;
		}
		int separator = text.lastIndexOf('|');
		return new PropertyCondition(text.substring(0, separator), Boolean.parseBoolean(text.substring(separator + 1)));
	}

	@Override
	public int compareTo(PropertyCondition other) {
		return toText().compareTo(other.toText());
	}

}

package com.example.gracefulsequence.sequence;

import org.jspecify.annotations.Nullable;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.stereotype.Component;

/**
 * Renders values for the web, keeping the rendering of the last one: every request for
 * the latest value and every stream that gets a new one use the same bytes.
 *
 * @author graceful-sequence contributors
 */
@Component
final class ValueRenderer {

	private final JsonMapper jsonMapper;

	private volatile @Nullable RenderedValue last;

	ValueRenderer(JsonMapper jsonMapper) {
		this.jsonMapper = jsonMapper;
	}

	RenderedValue render(SequenceValue value) {
		RenderedValue rendered = this.last;
		if (rendered == null || rendered.value() != value) {
			rendered = RenderedValue.of(value, this.jsonMapper);
			this.last = rendered;
		}
		return rendered;
	}

}

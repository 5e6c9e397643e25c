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

	private final SequenceHub hub;

	private final JsonMapper jsonMapper;

	private volatile @Nullable RenderedValue last;

	ValueRenderer(SequenceHub hub, JsonMapper jsonMapper) {
		this.hub = hub;
		this.jsonMapper = jsonMapper;
	}

	/**
	 * The latest value of the hub, rendered.
	 * @return the rendered value, or {@code null} if there is none yet
	 */
	@Nullable RenderedValue latest() {
		SequenceValue value = this.hub.latest();
		return (value != null) ? render(value) : null;
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

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

	/**
	 * A value, rendered: the latest once, however many threads ask for it at the same
	 * time (the lanes of the fan-out, requests), an older one (the replay of a resuming
	 * stream) again each time.
	 * @param value the value
	 * @return the rendered value
	 */
	RenderedValue render(SequenceValue value) {
		RenderedValue rendered = this.last;
		if (rendered != null && rendered.value() == value) {
			return rendered;
		}
		synchronized (this) {
			rendered = this.last;
			if (rendered == null || rendered.value() != value) {
				rendered = RenderedValue.of(value, this.jsonMapper);
				if (value == this.hub.latest()) {
					this.last = rendered;
				}
			}
			return rendered;
		}
	}

}

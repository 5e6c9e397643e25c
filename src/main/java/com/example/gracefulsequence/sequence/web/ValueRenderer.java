package com.example.gracefulsequence.sequence.web;

import com.example.gracefulsequence.sequence.SequenceHub;
import com.example.gracefulsequence.sequence.SequenceValue;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.stereotype.Component;

/**
 * Renders values for the web, once each, as the hub publishes them: it keeps the
 * renderings of the latest values, so that every request for the latest value and every
 * stream that gets a new one use the same bytes, also when a lane of the fan-out writes a
 * value a few periods after it came.
 *
 * @author graceful-sequence contributors
 */
@Component
final class ValueRenderer {

	/**
	 * How many of the latest values keep their rendering: a lane that is further behind
	 * than this renders again.
	 */
	static final int KEPT = 16;

	private final JsonMapper jsonMapper;

	// Newest first, the latest value of the hub at the head; replaced whole, never
	// changed in place, so that readers need no lock
	private volatile RenderedValue[] recent = new RenderedValue[0];

	/**
	 * Render every value of the hub as it is published, before any subscriber asks for
	 * it.
	 * @param hub the hub
	 * @param jsonMapper the mapper of the JSON body
	 */
	ValueRenderer(SequenceHub hub, JsonMapper jsonMapper) {
		this.jsonMapper = jsonMapper;
		hub.onPublish(this::render);
	}

	/**
	 * The latest value, rendered when it was published.
	 * @return the rendered value, or {@code null} if there is none yet
	 */
	@Nullable RenderedValue latest() {
		RenderedValue[] recent = this.recent;
		return (recent.length > 0) ? recent[0] : null;
	}

	/**
	 * A value, rendered: one of the latest once, however many threads ask for it and
	 * however late (the lanes of the fan-out, requests); an older one (the replay of a
	 * resuming stream) each time it is asked for.
	 * @param value the value
	 * @return the rendered value
	 */
	RenderedValue render(SequenceValue value) {
		RenderedValue kept = find(this.recent, value);
		if (kept != null) {
			return kept;
		}
		synchronized (this) {
			RenderedValue[] recent = this.recent;
			kept = find(recent, value);
			if (kept != null) {
				return kept;
			}
			RenderedValue rendered = RenderedValue.of(value, this.jsonMapper);
			if (recent.length == 0 || value.eventId() > recent[0].value().eventId()) {
				RenderedValue[] next = new RenderedValue[Math.min(KEPT, recent.length + 1)];
				next[0] = rendered;
				System.arraycopy(recent, 0, next, 1, next.length - 1);
				this.recent = next;
			}
			return rendered;
		}
	}

	private static @Nullable RenderedValue find(RenderedValue[] recent, SequenceValue value) {
		for (RenderedValue rendered : recent) {
			if (rendered.value() == value) {
				return rendered;
			}
		}
		return null;
	}

}

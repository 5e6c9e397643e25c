package com.example.gracefulsequence.sequence.web;

import java.time.Duration;

import com.example.gracefulsequence.sequence.Admission;
import com.example.gracefulsequence.sequence.SequenceHub;
import com.example.gracefulsequence.sequence.SequenceValue;
import com.example.gracefulsequence.sequence.Subscriber;
import com.example.gracefulsequence.shutdown.HttpDrainTimedOutEvent;

import org.springframework.context.event.EventListener;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Component;
import org.springframework.web.context.request.async.DeferredResult;

/**
 * {@code GET /sequence/next}: a request that waits for the next value, with Spring MVC's
 * asynchronous {@link DeferredResult}, so that no thread waits with it.
 *
 * @author graceful-sequence contributors
 */
@Component
final class LongPolls {

	private final SequenceHub hub;

	private final ValueRenderer renderer;

	private final Refusals refusals;

	LongPolls(SequenceHub hub, ValueRenderer renderer, Refusals refusals) {
		this.hub = hub;
		this.renderer = renderer;
		this.refusals = refusals;
	}

	/**
	 * Wait for the next value.
	 * @param timeout how long to wait before answering 204
	 * @param client the client's address
	 * @return the result, set when the next value comes
	 */
	DeferredResult<ResponseEntity<byte[]>> awaitNext(Duration timeout, String client) {
		DeferredResult<ResponseEntity<byte[]>> result = new DeferredResult<>(timeout.toMillis(),
				() -> ResponseEntity.noContent().build());
		Subscriber poll = new Poll(result, client);
		result.onCompletion(() -> this.hub.unsubscribe(poll));
		Admission admission = this.hub.awaitNext(poll);
		if (admission != Admission.TAKEN) {
			throw this.refusals.unavailable(this.refusals.turnedAway(admission, Refusals.Kind.LONG_POLL));
		}
		return result;
	}

	/**
	 * Answer every waiting long-poll with a 503 when the HTTP drain runs out of time, so
	 * that none is cut without an answer.
	 */
	@EventListener(HttpDrainTimedOutEvent.class)
	void answerWaitingPolls() {
		this.hub.closePolls();
	}

	private final class Poll implements Subscriber {

		private final DeferredResult<ResponseEntity<byte[]>> result;

		private final String client;

		Poll(DeferredResult<ResponseEntity<byte[]>> result, String client) {
			this.result = result;
			this.client = client;
		}

		@Override
		public String client() {
			return this.client;
		}

		@Override
		public void onValue(SequenceValue value) {
			this.result.setResult(LongPolls.this.renderer.render(value).response());
		}

		@Override
		public void onClose() {
			this.result.setErrorResult(LongPolls.this.refusals.unavailable(Refusals.STOPPED_WAITING));
		}

	}

}

package com.example.gracefulsequence.sequence.web;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletOutputStream;
import org.junit.jupiter.api.Test;
import org.mockito.InOrder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.BDDMockito.given;
import static org.mockito.BDDMockito.then;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;

/**
 * Tests of {@link StreamSubscriber} on its own, with the container's side stubbed and
 * time in the test's hands.
 *
 * @author graceful-sequence contributors
 */
class StreamSubscriberTests {

	private final AsyncContext async = mock(AsyncContext.class);

	private final ServletOutputStream out = mock(ServletOutputStream.class);

	private final AtomicLong ticker = new AtomicLong(1);

	private final List<StreamSubscriber> ended = new ArrayList<>();

	private final AtomicLong closed = new AtomicLong();

	private final StreamSubscriber subscriber = new StreamSubscriber(this.async, this.out, Long.MAX_VALUE,
			this.ended::add, this.ticker::get, this.closed::incrementAndGet);

	private static byte[] event(long id) {
		return ("event: value\nid: " + id + "\n\n").getBytes(StandardCharsets.UTF_8);
	}

	@Test
	void aStreamWhoseConnectionTakesNoByteForTheStallTimeoutIsDroppedThoughItsQueueIsNotFull() throws IOException {
		// The kernel's send buffer is full: the container says not ready
		given(this.out.isReady()).willReturn(false);
		this.subscriber.writer().onWritePossible();
		this.subscriber.sendValue(1, event(1));
		this.ticker.addAndGet(StreamSubscriber.STALL_TIMEOUT.toNanos());
		this.subscriber.sendValue(2, event(2));
		assertThat(this.ended).isEmpty();
		this.ticker.addAndGet(Duration.ofMillis(1).toNanos());
		this.subscriber.sendValue(3, event(3));
		assertThat(this.ended).containsExactly(this.subscriber);
		// The connection is closed, not left to the container to flush what is queued
		assertThat(this.closed).hasValue(1);
		then(this.async).should().complete();
	}

	@Test
	void aStreamWhoseConnectionTakesBytesAgainIsNotStalled() throws IOException {
		given(this.out.isReady()).willReturn(false);
		this.subscriber.writer().onWritePossible();
		this.subscriber.sendValue(1, event(1));
		this.ticker.addAndGet(StreamSubscriber.STALL_TIMEOUT.toNanos());
		// The client read: the container says ready again and calls back
		given(this.out.isReady()).willReturn(true, false);
		this.subscriber.writer().onWritePossible();
		this.ticker.addAndGet(Duration.ofSeconds(1).toNanos());
		this.subscriber.sendValue(2, event(2));
		assertThat(this.ended).isEmpty();
		then(this.async).should(never()).complete();
	}

	@Test
	void aValueOnAReadyStreamAsksForReadinessOnlyBeforeItsWriteAndItsFlush() throws IOException {
		given(this.out.isReady()).willReturn(true);
		this.subscriber.writer().onWritePossible();
		// The response's headers went out with the first flush
		then(this.out).should().flush();
		then(this.out).should().isReady();
		byte[] value = event(1);
		this.subscriber.sendValue(1, value);
		InOrder order = inOrder(this.out);
		order.verify(this.out).isReady();
		order.verify(this.out).write(value);
		order.verify(this.out).isReady();
		order.verify(this.out).flush();
		order.verifyNoMoreInteractions();
	}

	@Test
	void valuesQueuedTogetherAreWrittenBackToBackWithOneFlush() throws IOException {
		given(this.out.isReady()).willReturn(true);
		this.subscriber.writer().onWritePossible();
		int count = 5;
		for (long id = 1; id <= count; id++) {
			assertThat(this.subscriber.queueValue(id, event(id))).isTrue();
		}
		then(this.out).should(never()).write(any(byte[].class));
		this.subscriber.writeQueued();
		InOrder order = inOrder(this.out);
		for (long id = 1; id <= count; id++) {
			order.verify(this.out).write(event(id));
		}
		order.verify(this.out).flush();
		// One for the headers, one for the values
		then(this.out).should(times(2)).flush();
		// Before each write and the flush, never to find that nothing is left
		then(this.out).should(times(1 + count + 1)).isReady();
	}

	@Test
	void valuesThatComeTogetherBeyondTheBoundReachAClientThatReads() throws IOException {
		given(this.out.isReady()).willReturn(true);
		this.subscriber.writer().onWritePossible();
		int count = StreamSubscriber.MAX_PENDING_EVENTS * 2 + 1;
		for (long id = 1; id <= count; id++) {
			assertThat(this.subscriber.queueValue(id, event(id))).isTrue();
		}
		this.subscriber.writeQueued();
		InOrder order = inOrder(this.out);
		for (long id = 1; id <= count; id++) {
			order.verify(this.out).write(event(id));
		}
		assertThat(this.ended).isEmpty();
	}

	@Test
	void valuesThatComeTogetherBeyondTheBoundDropAClientThatDoesNotRead() {
		given(this.out.isReady()).willReturn(true, false);
		this.subscriber.writer().onWritePossible();
		for (long id = 1; id <= StreamSubscriber.MAX_PENDING_EVENTS; id++) {
			assertThat(this.subscriber.queueValue(id, event(id))).isTrue();
		}
		assertThat(this.ended).isEmpty();
		assertThat(this.subscriber.queueValue(StreamSubscriber.MAX_PENDING_EVENTS + 1,
				event(StreamSubscriber.MAX_PENDING_EVENTS + 1)))
			.isFalse();
		assertThat(this.ended).containsExactly(this.subscriber);
		assertThat(this.closed).hasValue(1);
	}

	@Test
	void anErrorOfTheContainerEndsTheStreamAndCompletesItDuringTheCallback() {
		given(this.out.isReady()).willReturn(true);
		this.subscriber.writer().onWritePossible();
		this.subscriber.writer().onError(new IOException("Connection reset"));
		assertThat(this.ended).containsExactly(this.subscriber);
		assertThat(this.subscriber.isEnded()).isTrue();
		then(this.async).should().complete();
	}

	@Test
	void anErrorAfterTheStreamCompletedCompletesItAgainDuringTheCallback() {
		given(this.out.isReady()).willReturn(true);
		this.subscriber.writer().onWritePossible();
		this.subscriber.sendLast("event: shutdown\n\n".getBytes(StandardCharsets.UTF_8));
		then(this.async).should().complete();
		this.subscriber.writer().onError(new IOException("Connection reset"));
		// Else the container hands the errored request to the error page
		then(this.async).should(times(2)).complete();
		assertThat(this.ended).containsExactly(this.subscriber);
	}

	@Test
	void aStreamWhoseQueueIsFullIsDroppedAtOnce() {
		given(this.out.isReady()).willReturn(false);
		for (long id = 1; id <= StreamSubscriber.MAX_PENDING_EVENTS; id++) {
			this.subscriber.sendValue(id, event(id));
		}
		assertThat(this.ended).isEmpty();
		this.subscriber.sendValue(StreamSubscriber.MAX_PENDING_EVENTS + 1,
				event(StreamSubscriber.MAX_PENDING_EVENTS + 1));
		assertThat(this.ended).containsExactly(this.subscriber);
	}

	@Test
	void nothingFollowsTheLastEvent() throws IOException {
		given(this.out.isReady()).willReturn(false);
		byte[] shutdown = "event: shutdown\n\n".getBytes(StandardCharsets.UTF_8);
		this.subscriber.sendLast(shutdown);
		// A value published while the goodbye waits for the connection
		byte[] value = event(1);
		this.subscriber.sendValue(1, value);
		given(this.out.isReady()).willReturn(true);
		this.subscriber.writer().onWritePossible();
		then(this.out).should().write(shutdown);
		then(this.out).should(never()).write(value);
		assertThat(this.ended).containsExactly(this.subscriber);
	}

	@Test
	void missedValuesAreQueuedOnTopOfTheBound() {
		given(this.out.isReady()).willReturn(false);
		int missed = StreamSubscriber.MAX_PENDING_EVENTS * 4;
		for (long id = 1; id <= missed; id++) {
			this.subscriber.sendMissed(id, event(id));
		}
		this.subscriber.sendValue(missed + 1, event(missed + 1));
		assertThat(this.ended).isEmpty();
	}

	@Test
	void aQuietStreamGetsAHeartbeatBehindWhatWasQueuedBeforeIt() throws IOException {
		given(this.out.isReady()).willReturn(true);
		this.subscriber.writer().onWritePossible();
		byte[] value = event(1);
		this.subscriber.sendValue(1, value);
		long sent = this.ticker.get();
		// Not quiet: the value was queued after the instant asked about
		this.subscriber.sendHeartbeat(EventStreams.HEARTBEAT, sent - 1);
		then(this.out).should(never()).write(EventStreams.HEARTBEAT);
		this.ticker.addAndGet(Duration.ofSeconds(15).toNanos());
		this.subscriber.sendHeartbeat(EventStreams.HEARTBEAT, sent);
		InOrder order = inOrder(this.out);
		order.verify(this.out).write(value);
		order.verify(this.out).write(EventStreams.HEARTBEAT);
		// The heartbeat counts as a write: the stream is not quiet again until a
		// heartbeat later
		this.subscriber.sendHeartbeat(EventStreams.HEARTBEAT, sent);
		then(this.out).should(times(1)).write(EventStreams.HEARTBEAT);
		assertThat(this.ended).isEmpty();
	}

	@Test
	void aHeartbeatThatFindsTheQueueFullDropsTheStreamAsAValueWould() {
		given(this.out.isReady()).willReturn(false);
		for (long id = 1; id <= StreamSubscriber.MAX_PENDING_EVENTS; id++) {
			this.subscriber.sendValue(id, event(id));
		}
		this.subscriber.sendHeartbeat(EventStreams.HEARTBEAT, this.ticker.get());
		assertThat(this.ended).containsExactly(this.subscriber);
		assertThat(this.closed).hasValue(1);
	}

	@Test
	void noHeartbeatFollowsTheLastEvent() throws IOException {
		given(this.out.isReady()).willReturn(false);
		this.subscriber.sendLast("event: shutdown\n\n".getBytes(StandardCharsets.UTF_8));
		this.subscriber.sendHeartbeat(EventStreams.HEARTBEAT, this.ticker.get());
		given(this.out.isReady()).willReturn(true);
		this.subscriber.writer().onWritePossible();
		then(this.out).should(never()).write(EventStreams.HEARTBEAT);
	}

}

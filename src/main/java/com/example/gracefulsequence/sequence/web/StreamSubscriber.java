package com.example.gracefulsequence.sequence.web;

import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.ServletOutputStream;

/**
 * What one open event stream is sent: each value once, in order, up to its count; a
 * heartbeat when it has been quiet; the last event. Events queue up to a bound; a client
 * is not reading, and is dropped, when its queue is full or when its connection has taken
 * no byte for {@link #STALL_TIMEOUT} (the kernel's send buffer may hold many events
 * before the queue fills). Its {@link EventStreamWriter writer} writes them.
 *
 * @author graceful-sequence contributors
 */
final class StreamSubscriber {

	static final int MAX_PENDING_EVENTS = 16;

	static final Duration STALL_TIMEOUT = Duration.ofSeconds(10);

	private final EventStreamWriter writer;

	private final LongSupplier ticker;

	// Only the fan-out thread touches these four
	private long remaining;

	// When an event was last queued, to tell a quiet stream
	private long lastQueuedAt;

	private int maxPending = MAX_PENDING_EVENTS;

	private long lastId = -1;

	StreamSubscriber(AsyncContext async, ServletOutputStream out, long count, Consumer<StreamSubscriber> onEnd,
			LongSupplier ticker, Runnable closeConnection) {
		this.writer = new EventStreamWriter(async, out, () -> onEnd.accept(this), ticker, closeConnection);
		this.ticker = ticker;
		this.remaining = count;
		this.lastQueuedAt = ticker.getAsLong();
	}

	/**
	 * The writer, to register as the stream's write and async listener.
	 * @return the writer
	 */
	EventStreamWriter writer() {
		return this.writer;
	}

	/**
	 * Queue a value event, unless one with the same or a later id was queued already, and
	 * write it. Called on the fan-out thread only.
	 * @param id the event id of the value
	 * @param event the encoded event
	 */
	void sendValue(long id, byte[] event) {
		if (queueValue(id, event)) {
			this.writer.write();
		}
	}

	/**
	 * Queue a value event, unless one with the same or a later id was queued already,
	 * without writing it yet: values that come together are written back to back, with
	 * one flush, by {@link #writeQueued()}. Called on the fan-out thread only.
	 * @param id the event id of the value
	 * @param event the encoded event
	 * @return whether it was queued
	 */
	boolean queueValue(long id, byte[] event) {
		// Nothing after the last event (the end of a count or the shutdown event)
		if (id <= this.lastId || !this.writer.isOpen()) {
			return false;
		}
		this.lastId = id;
		if (!enqueueWhileReading(event)) {
			return false;
		}
		if (--this.remaining == 0) {
			this.writer.closeWhenWritten();
		}
		return true;
	}

	/**
	 * Take no value up to the given id: the client had it from another instance, ahead of
	 * this one. Called on the fan-out thread only.
	 * @param id the event id of the last value the client had
	 */
	void skipThrough(long id) {
		this.lastId = Math.max(this.lastId, id);
	}

	/**
	 * Write what {@link #queueValue(long, byte[])} queued, as far as the connection takes
	 * it. Called on the fan-out thread only.
	 */
	void writeQueued() {
		this.writer.write();
	}

	/**
	 * Queue a heartbeat if nothing was queued since the given instant, under the same
	 * bound as values and behind them. Called on the fan-out thread only.
	 * @param comment the encoded comment line
	 * @param quietSince an instant of this subscriber's clock, in nanoseconds
	 */
	void sendHeartbeat(byte[] comment, long quietSince) {
		if (this.lastQueuedAt - quietSince > 0 || !this.writer.isOpen()) {
			return;
		}
		if (enqueueWhileReading(comment)) {
			this.writer.write();
		}
	}

	/**
	 * Queue an event, unless the client is not reading, which ends the stream.
	 * @param event the encoded event
	 * @return whether it was queued
	 */
	private boolean enqueueWhileReading(byte[] event) {
		if (this.writer.pending() >= this.maxPending) {
			// Values that came together may be more than the bound: a client that reads
			// takes the ones before first
			this.writer.write();
		}
		if (this.writer.pending() >= this.maxPending || this.writer.stalledLongerThan(STALL_TIMEOUT.toNanos())) {
			abort();
			return false;
		}
		this.writer.queue(event);
		this.lastQueuedAt = this.ticker.getAsLong();
		return true;
	}

	/**
	 * Queue a value event that the client missed, on top of the bound for a client that
	 * stops reading. Called on the fan-out thread only.
	 * @param id the event id of the value
	 * @param event the encoded event
	 */
	void sendMissed(long id, byte[] event) {
		this.maxPending++;
		sendValue(id, event);
	}

	/**
	 * Queue the last event and complete the stream once it is written.
	 * @param event the encoded event
	 */
	void sendLast(byte[] event) {
		this.writer.writeLast(event);
	}

	/**
	 * End the stream now, whatever is still queued.
	 */
	void abort() {
		this.writer.abort();
	}

	boolean isEnded() {
		return this.writer.isEnded();
	}

}

package com.example.gracefulsequence.sequence.web;

import java.io.IOException;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;

/**
 * One open event stream, written with non-blocking Servlet I/O so that no thread waits on
 * a client. Events queue per subscriber up to a bound; a subscriber is not reading, and
 * is dropped, when its queue is full or when its connection has taken no byte for
 * {@link #STALL_TIMEOUT} (the kernel's send buffer may hold many events before the queue
 * fills).
 * <p>
 * Every call into the container's output stream and async context happens inside
 * {@link #drain()}, which one thread at a time runs (the work-in-progress counter hands
 * the loop to whichever thread is already in it), so the producer's fan-out thread and
 * the container's callbacks never write at the same time, and nothing is written after
 * the container has been told the stream is complete and may recycle the response.
 *
 * @author graceful-sequence contributors
 */
final class StreamSubscriber implements WriteListener, AsyncListener {

	static final int MAX_PENDING_EVENTS = 16;

	static final Duration STALL_TIMEOUT = Duration.ofSeconds(10);

	private static final Duration ERROR_HANDLING_TIMEOUT = Duration.ofSeconds(1);

	private final AsyncContext async;

	private final ServletOutputStream out;

	private final Consumer<StreamSubscriber> onEnd;

	private final Queue<byte[]> pending = new ConcurrentLinkedQueue<>();

	private final AtomicInteger pendingCount = new AtomicInteger();

	private final AtomicInteger workInProgress = new AtomicInteger();

	private final AtomicReference<State> state = new AtomicReference<>(State.OPEN);

	// Whether the container has called onWritePossible(), after which writes may start
	private volatile boolean writable;

	private final CountDownLatch errorHandled = new CountDownLatch(1);

	private final LongSupplier nanoTime;

	private final Runnable closeConnection;

	// When a write was last left waiting for the connection, 0 while it takes bytes
	private volatile long stalledSince;

	// Only the fan-out thread touches these four
	private long remaining;

	// When an event was last queued, to tell a quiet stream
	private long lastQueuedAt;

	private int maxPending = MAX_PENDING_EVENTS;

	private long lastId = -1;

	// Only the thread in drain() touches this
	private boolean unflushed = true;

	StreamSubscriber(AsyncContext async, ServletOutputStream out, long count, Consumer<StreamSubscriber> onEnd,
			LongSupplier nanoTime, Runnable closeConnection) {
		this.async = async;
		this.closeConnection = closeConnection;
		this.nanoTime = nanoTime;
		this.out = out;
		this.remaining = count;
		this.onEnd = onEnd;
		this.lastQueuedAt = nanoTime.getAsLong();
	}

	/**
	 * Queue a value event, unless one with the same or a later id was queued already, and
	 * write it. Called on the fan-out thread only.
	 * @param id the event id of the value
	 * @param event the encoded event
	 */
	void sendValue(long id, byte[] event) {
		if (queueValue(id, event)) {
			drain();
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
		if (id <= this.lastId || this.state.get() != State.OPEN) {
			return false;
		}
		this.lastId = id;
		if (!enqueueWhileReading(event)) {
			return false;
		}
		if (--this.remaining == 0) {
			close();
		}
		return true;
	}

	/**
	 * Write what {@link #queueValue(long, byte[])} queued, as far as the connection takes
	 * it. Called on the fan-out thread only.
	 */
	void writeQueued() {
		drain();
	}

	/**
	 * Queue a heartbeat if nothing was queued since the given instant, under the same
	 * bound as values and behind them. Called on the fan-out thread only.
	 * @param comment the encoded comment line
	 * @param quietSince an instant of this subscriber's clock, in nanoseconds
	 */
	void sendHeartbeat(byte[] comment, long quietSince) {
		if (this.lastQueuedAt - quietSince > 0 || this.state.get() != State.OPEN) {
			return;
		}
		if (enqueueWhileReading(comment)) {
			drain();
		}
	}

	/**
	 * Queue an event, unless the client is not reading, which ends the stream.
	 * @param event the encoded event
	 * @return whether it was queued
	 */
	private boolean enqueueWhileReading(byte[] event) {
		if (this.pendingCount.get() >= this.maxPending) {
			// Values that came together may be more than the bound: a client that reads
			// takes the ones before first
			drain();
		}
		if (this.pendingCount.get() >= this.maxPending || isStalled()) {
			abort();
			return false;
		}
		enqueue(event);
		this.lastQueuedAt = this.nanoTime.getAsLong();
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

	private boolean isStalled() {
		long since = this.stalledSince;
		return since != 0 && this.nanoTime.getAsLong() - since > STALL_TIMEOUT.toNanos();
	}

	/**
	 * Queue the last event and complete the stream once it is written.
	 * @param event the encoded event
	 */
	void sendLast(byte[] event) {
		if (this.state.get() != State.OPEN) {
			return;
		}
		// Queued before the state says so, so that the drain that completes writes it
		enqueue(event);
		close();
		drain();
	}

	/**
	 * End the stream now, whatever is still queued.
	 */
	void abort() {
		this.state
			.updateAndGet((current) -> (current == State.OPEN || current == State.CLOSING) ? State.ABORTING : current);
		drain();
	}

	boolean isEnded() {
		return this.state.get() == State.ENDED;
	}

	// The last event is queued: complete once everything is written
	private void close() {
		this.state.compareAndSet(State.OPEN, State.CLOSING);
	}

	private void enqueue(byte[] event) {
		this.pendingCount.incrementAndGet();
		this.pending.add(event);
	}

	private void drain() {
		if (this.workInProgress.getAndIncrement() != 0) {
			return;
		}
		int missed = 1;
		do {
			try {
				writeWhileReady();
			}
			catch (IOException | RuntimeException ex) {
				complete();
			}
			missed = this.workInProgress.addAndGet(-missed);
		}
		while (missed != 0);
	}

	private void writeWhileReady() throws IOException {
		switch (this.state.get()) {
			case FAILED -> completeAfterError();
			case ABORTING -> {
				// Not reading: close the connection rather than have the container wait
				// to flush what is left
				this.closeConnection.run();
				complete();
			}
			case OPEN, CLOSING -> {
				if (this.writable) {
					writeWhatIsQueued();
				}
			}
			case ENDED -> {
			}
		}
	}

	private void writeWhatIsQueued() throws IOException {
		// Everything queued goes out back to back with one flush (one write to the
		// socket); readiness is asked only where the Servlet rule needs it, before each
		// write or flush that follows another
		while (this.unflushed || !this.pending.isEmpty()) {
			if (!isReady()) {
				return;
			}
			byte[] event = this.pending.poll();
			if (event != null) {
				this.pendingCount.decrementAndGet();
				this.out.write(event);
				this.unflushed = true;
			}
			else {
				this.unflushed = false;
				this.out.flush();
			}
		}
		// Complete once the last bytes have left, not while the container still holds
		// some
		if (this.state.get() == State.CLOSING && isReady()) {
			complete();
		}
	}

	/**
	 * Whether the connection takes bytes now; if not, the container calls
	 * {@link #onWritePossible()} once it does, and the stall clock runs until then.
	 * @return whether a write may follow
	 */
	private boolean isReady() {
		if (!this.out.isReady()) {
			if (this.stalledSince == 0) {
				this.stalledSince = this.nanoTime.getAsLong();
			}
			return false;
		}
		this.stalledSince = 0;
		return true;
	}

	private void complete() {
		if (end()) {
			completeAsync();
		}
	}

	/**
	 * Complete after the container reported an error, even if {@link #complete()} ran
	 * already: an errored async request that no listener completes during the error
	 * callback is handed to the error page.
	 */
	private void completeAfterError() {
		end();
		completeAsync();
		this.errorHandled.countDown();
	}

	/**
	 * The container reported an error: complete from inside {@link #drain()}, so that no
	 * other thread is writing when the container recycles the response for another
	 * request, and wait (briefly) for it, as the error callback must complete.
	 */
	private void failed() {
		if (this.state.getAndUpdate((current) -> (current != State.ENDED) ? State.FAILED : current) == State.ENDED) {
			// Nothing writes any more
			completeAsync();
			return;
		}
		drain();
		try {
			if (!this.errorHandled.await(ERROR_HANDLING_TIMEOUT.toNanos(), TimeUnit.NANOSECONDS)) {
				completeAfterError();
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			completeAfterError();
		}
	}

	private void completeAsync() {
		try {
			this.async.complete();
		}
		catch (IllegalStateException ex) {
			// Completed already
		}
	}

	/**
	 * End the stream, once.
	 * @return whether it ended now, rather than before
	 */
	private boolean end() {
		if (this.state.getAndSet(State.ENDED) == State.ENDED) {
			return false;
		}
		this.onEnd.accept(this);
		return true;
	}

	@Override
	public void onWritePossible() {
		this.writable = true;
		drain();
	}

	@Override
	public void onError(Throwable ex) {
		failed();
	}

	@Override
	public void onComplete(AsyncEvent event) {
		end();
	}

	@Override
	public void onTimeout(AsyncEvent event) {
		failed();
	}

	@Override
	public void onError(AsyncEvent event) {
		failed();
	}

	@Override
	public void onStartAsync(AsyncEvent event) {
	}

	/**
	 * Where a stream is in its life; it only moves down this list, except that an error
	 * of the container may come at any time before the end.
	 */
	private enum State {

		/**
		 * Events are queued and written as the connection takes them.
		 */
		OPEN,

		/**
		 * The last event is queued (the end of a count, or the shutdown event): the
		 * stream completes once everything queued is written.
		 */
		CLOSING,

		/**
		 * The client is not reading: the connection is closed and the stream completes,
		 * whatever is still queued.
		 */
		ABORTING,

		/**
		 * The container reported an error: the stream completes from inside the drain.
		 */
		FAILED,

		/**
		 * Completed, by this class or by the container; nothing is written any more.
		 */
		ENDED

	}

}

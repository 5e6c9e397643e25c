package com.example.gracefulsequence.sequence.web;

import java.io.IOException;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;

/**
 * Writes a stream's events with non-blocking Servlet I/O, so that no thread waits on a
 * client, and completes the stream: when its last event is written, at once when its
 * client is not reading, or when the container reports an error.
 * <p>
 * Every call into the container's output stream and async context happens inside
 * {@link #drain()}, which one thread at a time runs (the work-in-progress counter hands
 * the loop to whichever thread is already in it), so the fan-out's lane and the
 * container's callbacks never write at the same time, and nothing is written after the
 * container has been told the stream is complete and may recycle the response.
 *
 * @author graceful-sequence contributors
 */
final class EventStreamWriter implements WriteListener, AsyncListener {

	private static final Duration ERROR_HANDLING_TIMEOUT = Duration.ofSeconds(1);

	private final AsyncContext async;

	private final ServletOutputStream out;

	private final Runnable onEnd;

	private final LongSupplier ticker;

	private final Runnable closeConnection;

	private final Queue<byte[]> pending = new ConcurrentLinkedQueue<>();

	private final AtomicInteger pendingCount = new AtomicInteger();

	private final AtomicInteger workInProgress = new AtomicInteger();

	private final AtomicReference<State> state = new AtomicReference<>(State.OPEN);

	// Counted down when the stream ends, by whichever way
	private final CountDownLatch ended = new CountDownLatch(1);

	// Whether the container has called onWritePossible(), after which writes may start
	private volatile boolean writable;

	// When a write was last left waiting for the connection, 0 while it takes bytes
	private volatile long stalledSince;

	// Only the thread in drain() touches this
	private boolean unflushed = true;

	/**
	 * Create the writer of a stream; register it with the stream's output stream and
	 * async context.
	 * @param async the stream's async context
	 * @param out the stream's output stream
	 * @param onEnd what to run once the stream has ended
	 * @param ticker elapsed time in nanoseconds, as {@link System#nanoTime()}
	 * @param closeConnection closes the stream's connection at once
	 */
	EventStreamWriter(AsyncContext async, ServletOutputStream out, Runnable onEnd, LongSupplier ticker,
			Runnable closeConnection) {
		this.async = async;
		this.out = out;
		this.onEnd = onEnd;
		this.ticker = ticker;
		this.closeConnection = closeConnection;
	}

	/**
	 * How many events are queued and not yet written.
	 * @return the number of events
	 */
	int pending() {
		return this.pendingCount.get();
	}

	/**
	 * Whether the connection has taken no byte for longer than the given time.
	 * @param timeout the time, in nanoseconds
	 * @return whether it is stalled
	 */
	boolean stalledLongerThan(long timeout) {
		long since = this.stalledSince;
		return since != 0 && this.ticker.getAsLong() - since > timeout;
	}

	/**
	 * Whether events may still be queued: the last one is not.
	 * @return whether the stream is open
	 */
	boolean isOpen() {
		return this.state.get() == State.OPEN;
	}

	boolean isEnded() {
		return this.state.get() == State.ENDED;
	}

	/**
	 * Queue an event, to be written by the next {@link #write()}.
	 * @param event the encoded event
	 */
	void queue(byte[] event) {
		this.pendingCount.incrementAndGet();
		this.pending.add(event);
	}

	/**
	 * Write what is queued, as far as the connection takes it.
	 */
	void write() {
		drain();
	}

	/**
	 * Complete the stream once everything queued is written: the last event is queued.
	 */
	void closeWhenWritten() {
		this.state.compareAndSet(State.OPEN, State.CLOSING);
	}

	/**
	 * Queue the last event, and complete the stream once it is written.
	 * @param event the encoded event
	 */
	void writeLast(byte[] event) {
		if (!isOpen()) {
			return;
		}
		// Queued before the state says so, so that the drain that completes writes it
		queue(event);
		closeWhenWritten();
		drain();
	}

	/**
	 * End the stream now, whatever is still queued, and close its connection.
	 */
	void abort() {
		this.state
			.updateAndGet((current) -> (current == State.OPEN || current == State.CLOSING) ? State.ABORTING : current);
		drain();
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
			// failed() completes once it has ended here
			case FAILED -> end();
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
				this.stalledSince = this.ticker.getAsLong();
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
	 * The container reported an error: end the stream from inside {@link #drain()}, so
	 * that no other thread is writing when the container recycles the response for
	 * another request, wait (briefly) for it, and complete, even if the stream completed
	 * already: an errored async request that no listener completes during the error
	 * callback is handed to the error page.
	 */
	private void failed() {
		if (this.state.getAndUpdate((current) -> (current != State.ENDED) ? State.FAILED : current) != State.ENDED) {
			drain();
			try {
				if (!this.ended.await(ERROR_HANDLING_TIMEOUT.toNanos(), TimeUnit.NANOSECONDS)) {
					end();
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				end();
			}
		}
		completeAsync();
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
		this.onEnd.run();
		this.ended.countDown();
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
		 * The container reported an error: the stream ends inside the drain, and the
		 * error callback completes it.
		 */
		FAILED,

		/**
		 * Completed, by this class or by the container; nothing is written any more.
		 */
		ENDED

	}

}

package com.example.gracefulsequence.sequence;

import java.io.IOException;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;

/**
 * One open event stream, written with non-blocking Servlet I/O so that no thread waits on
 * a client. Events queue per subscriber up to a bound; a subscriber whose queue is full
 * is not reading and is dropped.
 * <p>
 * Every call into the container's output stream happens inside {@link #drain()}, which
 * one thread at a time runs (the work-in-progress counter hands the loop to whichever
 * thread is already in it), so the producer's fan-out thread and the container's
 * {@link #onWritePossible()} never write at the same time.
 *
 * @author graceful-sequence contributors
 */
final class StreamSubscriber implements WriteListener, AsyncListener {

	static final int MAX_PENDING_EVENTS = 16;

	private final AsyncContext async;

	private final ServletOutputStream out;

	private final Consumer<StreamSubscriber> onEnd;

	private final Queue<byte[]> pending = new ConcurrentLinkedQueue<>();

	private final AtomicInteger pendingCount = new AtomicInteger();

	private final AtomicInteger workInProgress = new AtomicInteger();

	private final AtomicBoolean ended = new AtomicBoolean();

	private final AtomicBoolean completed = new AtomicBoolean();

	private volatile boolean writable;

	private volatile boolean completeWhenDrained;

	private volatile boolean abort;

	// Only the fan-out thread touches these two
	private long remaining;

	private long lastIndex = -1;

	// Only the thread in drain() touches this
	private boolean unflushed = true;

	StreamSubscriber(AsyncContext async, ServletOutputStream out, long count, Consumer<StreamSubscriber> onEnd) {
		this.async = async;
		this.out = out;
		this.remaining = count;
		this.onEnd = onEnd;
	}

	/**
	 * Queue a value event. Called on the fan-out thread only.
	 * @param index the index of the value, to skip one already sent
	 * @param event the encoded event
	 */
	void sendValue(long index, byte[] event) {
		if (index <= this.lastIndex || this.remaining == 0 || this.ended.get()) {
			return;
		}
		this.lastIndex = index;
		if (this.pendingCount.get() >= MAX_PENDING_EVENTS) {
			abort();
			return;
		}
		enqueue(event);
		if (--this.remaining == 0) {
			this.completeWhenDrained = true;
		}
		drain();
	}

	/**
	 * Queue the last event and complete the stream once it is written.
	 * @param event the encoded event
	 */
	void sendLast(byte[] event) {
		if (this.completeWhenDrained || this.ended.get()) {
			return;
		}
		enqueue(event);
		this.completeWhenDrained = true;
		drain();
	}

	/**
	 * End the stream now, whatever is still queued.
	 */
	void abort() {
		this.abort = true;
		drain();
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
		if (this.ended.get()) {
			return;
		}
		if (this.abort) {
			complete();
			return;
		}
		if (!this.writable) {
			return;
		}
		while (this.out.isReady()) {
			byte[] event = this.pending.poll();
			if (event != null) {
				this.pendingCount.decrementAndGet();
				this.out.write(event);
				this.unflushed = true;
			}
			else if (this.unflushed) {
				this.unflushed = false;
				this.out.flush();
			}
			else {
				if (this.completeWhenDrained) {
					complete();
				}
				return;
			}
		}
	}

	private void complete() {
		end();
		if (this.completed.compareAndSet(false, true)) {
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
		this.completed.set(true);
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

	private void end() {
		if (this.ended.compareAndSet(false, true)) {
			this.onEnd.accept(this);
		}
	}

	@Override
	public void onWritePossible() {
		this.writable = true;
		drain();
	}

	@Override
	public void onError(Throwable ex) {
		completeAfterError();
	}

	@Override
	public void onComplete(AsyncEvent event) {
		end();
	}

	@Override
	public void onTimeout(AsyncEvent event) {
		completeAfterError();
	}

	@Override
	public void onError(AsyncEvent event) {
		completeAfterError();
	}

	@Override
	public void onStartAsync(AsyncEvent event) {
	}

}

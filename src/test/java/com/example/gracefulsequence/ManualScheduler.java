package com.example.gracefulsequence;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.Executors;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A {@link ScheduledExecutorService} whose time stands still until a test advances it,
 * and which then runs the tasks that came due, in order, on the test's thread, with its
 * {@link #ticker() ticker} reading each task's due time. Like a
 * {@code ScheduledThreadPoolExecutor} by default, {@link #shutdown()} refuses new tasks
 * but still runs the delayed ones, and {@link #shutdownNow()} drops them.
 *
 * @author graceful-sequence contributors
 */
public final class ManualScheduler extends AbstractExecutorService implements ScheduledExecutorService {

	private final PriorityQueue<Task<?>> queue = new PriorityQueue<>();

	private long now = 1_000_000_000L;

	private long sequence;

	private boolean shutdown;

	/**
	 * Elapsed time in nanoseconds, as {@link System#nanoTime()}: it moves only when the
	 * test advances it.
	 * @return the ticker
	 */
	public LongSupplier ticker() {
		return () -> this.now;
	}

	/**
	 * Move time forward, running each task that comes due, at its due time, including
	 * those that the tasks schedule.
	 * @param duration how far
	 */
	public void advance(Duration duration) {
		long target = this.now + duration.toNanos();
		Task<?> next = this.queue.peek();
		while (next != null && next.dueAt <= target) {
			this.queue.poll();
			this.now = Math.max(this.now, next.dueAt);
			next.run();
			next = this.queue.peek();
		}
		// A task that stalled may have taken time past the target
		this.now = Math.max(this.now, target);
	}

	/**
	 * Let time pass without running any task, as when the task under way takes that long.
	 * @param duration how long
	 */
	public void stall(Duration duration) {
		this.now += duration.toNanos();
	}

	/**
	 * The delays of the tasks waiting to run, soonest first.
	 * @return the delays
	 */
	public List<Duration> scheduled() {
		List<Task<?>> tasks = new ArrayList<>(this.queue);
		tasks.sort(null);
		return tasks.stream().map((task) -> Duration.ofNanos(task.dueAt - this.now)).toList();
	}

	@Override
	public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
		return schedule(Executors.callable(command), delay, unit);
	}

	@Override
	public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
		if (this.shutdown) {
			throw new RejectedExecutionException("Shut down");
		}
		Task<V> task = new Task<>(callable, this.now + Math.max(0, unit.toNanos(delay)), this.sequence++);
		this.queue.add(task);
		return task;
	}

	@Override
	public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
		throw new UnsupportedOperationException("Not used by the application");
	}

	@Override
	public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
		throw new UnsupportedOperationException("Not used by the application");
	}

	@Override
	public void execute(Runnable command) {
		schedule(command, 0, TimeUnit.NANOSECONDS);
	}

	@Override
	public void shutdown() {
		this.shutdown = true;
	}

	@Override
	public List<Runnable> shutdownNow() {
		this.shutdown = true;
		List<Runnable> dropped = new ArrayList<>(this.queue);
		this.queue.clear();
		return dropped;
	}

	@Override
	public boolean isShutdown() {
		return this.shutdown;
	}

	@Override
	public boolean isTerminated() {
		return this.shutdown && this.queue.isEmpty();
	}

	@Override
	public boolean awaitTermination(long timeout, TimeUnit unit) {
		return isTerminated();
	}

	private final class Task<V> extends FutureTask<V> implements ScheduledFuture<V> {

		private final long dueAt;

		private final long sequence;

		Task(Callable<V> callable, long dueAt, long sequence) {
			super(callable);
			this.dueAt = dueAt;
			this.sequence = sequence;
		}

		@Override
		public long getDelay(TimeUnit unit) {
			return unit.convert(this.dueAt - ManualScheduler.this.now, TimeUnit.NANOSECONDS);
		}

		@Override
		public boolean cancel(boolean mayInterruptIfRunning) {
			ManualScheduler.this.queue.remove(this);
			return super.cancel(mayInterruptIfRunning);
		}

		@Override
		public int compareTo(Delayed other) {
			Task<?> task = (Task<?>) other;
			int byTime = Long.compare(this.dueAt, task.dueAt);
			return (byTime != 0) ? byTime : Long.compare(this.sequence, task.sequence);
		}

		@Override
		protected void done() {
			// A task that threw would otherwise fail silently, as in a real executor, but
			// here the test thread is the place to see it
			if (!isCancelled()) {
				try {
					get();
				}
				catch (Exception ex) {
					throw new IllegalStateException("A scheduled task failed", ex);
				}
			}
		}

	}

}

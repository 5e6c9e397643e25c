package com.example.gracefulsequence.sequence;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.stereotype.Component;

/**
 * How many open streams and waiting long-polls the service takes: what the old generation
 * of the heap holds, at most {@value #MAX}, unless {@code sequence.max-subscribers} says
 * fewer. A cap that the heap cannot hold is refused at startup, since a burst of
 * subscribers up to it would run the JVM out of memory. The cap in force is the gauge
 * {@code sequence.subscribers.limit}, beside {@code sequence.subscribers}.
 *
 * @author graceful-sequence contributors
 */
@Component
public final class SubscriberCapacity {

	private static final Logger logger = LoggerFactory.getLogger(SubscriberCapacity.class);

	static final int MAX = 10_000;

	/**
	 * Heap that one open stream keeps, nearly all of it Tomcat's request and response
	 * with their buffers (see docs/streams.md for the measurement), with some headroom.
	 */
	static final long HEAP_PER_SUBSCRIBER = 52 * 1024;

	/**
	 * Heap that the service needs besides its subscribers: itself, requests in flight and
	 * the connections that are turned away while they are open.
	 */
	static final long HEAP_RESERVED = 32 * 1024 * 1024;

	private final int maxSubscribers;

	@Autowired
	SubscriberCapacity(SequenceProperties properties, MeterRegistry meterRegistry) {
		this(properties.maxSubscribers(), oldGenerationMax());
		register(meterRegistry);
	}

	/**
	 * Where an open stream ends up: the old generation of the heap (with the serial or
	 * parallel collector, two thirds of it by default), or the whole heap if the
	 * collector does not say.
	 * @return the maximum size in bytes
	 */
	static long oldGenerationMax() {
		for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
			String name = pool.getName();
			long max = pool.getUsage().getMax();
			if (pool.getType() == MemoryType.HEAP && (name.contains("Old") || name.contains("Tenured")) && max > 0) {
				return max;
			}
		}
		return Runtime.getRuntime().maxMemory();
	}

	SubscriberCapacity(@Nullable Integer configured, long maxHeap) {
		int heapHolds = heapHolds(maxHeap);
		if (configured == null) {
			this.maxSubscribers = heapHolds;
			logger.info(
					"Taking up to {} open streams and waiting long-polls, {} in {} MiB of old generation "
							+ "(sequence.max-subscribers)",
					heapHolds, (heapHolds < MAX) ? "what fits" : "the most", mebibytes(maxHeap));
		}
		else if (configured > heapHolds) {
			throw new InvalidConfigurationPropertyValueException("sequence.max-subscribers", configured,
					"An old generation of " + mebibytes(maxHeap) + " MiB holds " + heapHolds + " open streams (about "
							+ HEAP_PER_SUBSCRIBER / 1024 + " KiB each, " + mebibytes(HEAP_RESERVED)
							+ " MiB kept for the rest); set it to " + heapHolds
							+ " or less, leave it unset, or give the JVM a larger heap (-Xmx).");
		}
		else {
			this.maxSubscribers = configured;
		}
	}

	/**
	 * How many subscribers a heap holds.
	 * @param maxHeap the maximum size of the heap's old generation, in bytes
	 * @return the number of subscribers, from 0 to {@value #MAX}
	 */
	static int heapHolds(long maxHeap) {
		return (int) Math.max(0, Math.min(MAX, (maxHeap - HEAP_RESERVED) / HEAP_PER_SUBSCRIBER));
	}

	public int maxSubscribers() {
		return this.maxSubscribers;
	}

	/**
	 * Show the cap as the gauge {@code sequence.subscribers.limit}.
	 * @param meterRegistry where to register it
	 */
	void register(MeterRegistry meterRegistry) {
		Gauge.builder("sequence.subscribers.limit", this, SubscriberCapacity::maxSubscribers)
			.description("Open streams plus waiting long-polls that the service takes before it turns new ones away")
			.strongReference(true)
			.register(meterRegistry);
	}

	private static long mebibytes(long bytes) {
		return bytes / (1024 * 1024);
	}

}

package com.example.gracefulsequence.sequence.web;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import com.example.gracefulsequence.sequence.SequenceHub;
import com.example.gracefulsequence.sequence.SequenceValue;
import com.example.gracefulsequence.sequence.SubscriberPlaces;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests of {@link ValueRenderer}.
 *
 * @author graceful-sequence contributors
 */
class ValueRendererTests {

	private final SequenceHub hub = new SequenceHub(new SubscriberPlaces(10, 0), 64, Duration.ZERO, System::nanoTime,
			null);

	private final ValueRenderer renderer = new ValueRenderer(this.hub, JsonMapper.builder().build());

	private static SequenceValue live(long index) {
		return new SequenceValue((int) index, index, Instant.parse("2026-12-02T10:00:00Z").plusSeconds(index),
				SequenceValue.Source.LIVE);
	}

	@Test
	void theLatestValueIsRenderedOnceHoweverManyThreadsAskAtOnce() throws Exception {
		ExecutorService threads = Executors.newFixedThreadPool(8);
		try {
			for (long index = 1; index <= 50; index++) {
				SequenceValue value = live(index);
				this.hub.publish(value);
				CountDownLatch go = new CountDownLatch(1);
				List<CompletableFuture<RenderedValue>> renders = IntStream.range(0, 8)
					.mapToObj((i) -> CompletableFuture.supplyAsync(() -> {
						awaitQuietly(go);
						return this.renderer.render(value);
					}, threads))
					.toList();
				go.countDown();
				RenderedValue first = renders.get(0).get(10, TimeUnit.SECONDS);
				for (CompletableFuture<RenderedValue> render : renders) {
					assertThat(render.get(10, TimeUnit.SECONDS)).isSameAs(first);
				}
				assertThat(this.renderer.latest()).isSameAs(first);
			}
		}
		finally {
			threads.shutdownNow();
			this.hub.closeStreams();
		}
	}

	@Test
	void aValueIsRenderedOnceForALaneThatWritesItAFewValuesLate() {
		SequenceValue late = live(1);
		this.hub.publish(late);
		RenderedValue first = this.renderer.render(late);
		for (long index = 2; index <= ValueRenderer.KEPT; index++) {
			SequenceValue value = live(index);
			this.hub.publish(value);
			this.renderer.render(value);
		}
		assertThat(this.renderer.render(late)).isSameAs(first);
		this.hub.publish(live(ValueRenderer.KEPT + 1));
		this.renderer.render(this.hub.latest());
		assertThat(this.renderer.render(late)).as("more than %d values late", ValueRenderer.KEPT).isNotSameAs(first);
	}

	@Test
	void aValueIsRenderedAsTheHubPublishesItAndHandedToWhoeverAsksLater() {
		assertThat(this.renderer.latest()).isNull();
		SequenceValue value = live(1);
		this.hub.publish(value);
		RenderedValue rendered = this.renderer.latest();
		assertThat(rendered).isNotNull();
		assertThat(rendered.value()).isSameAs(value);
		assertThat(this.renderer.render(value)).isSameAs(rendered);
	}

	@Test
	void anOlderValueRenderedForAReplayDoesNotReplaceTheLatest() {
		this.hub.publish(live(1));
		this.hub.publish(live(2));
		RenderedValue latest = this.renderer.latest();
		assertThat(this.renderer.render(live(1)).value().index()).isEqualTo(1);
		assertThat(this.renderer.latest()).isSameAs(latest);
	}

	private static void awaitQuietly(CountDownLatch latch) {
		try {
			latch.await();
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

}

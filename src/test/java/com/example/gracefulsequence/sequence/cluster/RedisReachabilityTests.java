package com.example.gracefulsequence.sequence.cluster;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import io.lettuce.core.RedisCommandExecutionException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.dao.QueryTimeoutException;
import org.springframework.data.redis.RedisSystemException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests of {@link RedisReachability} on a ticker the test advances: when Redis counts as
 * unreachable, what is logged, and when the connections start again: while it is
 * unreached, and while it answers but refuses writes.
 *
 * @author graceful-sequence contributors
 */
@ExtendWith(OutputCaptureExtension.class)
class RedisReachabilityTests {

	private static final Duration GRACE = Duration.ofSeconds(1);

	private final AtomicLong ticker = new AtomicLong(1_000_000_000L);

	private final AtomicInteger reconnects = new AtomicInteger();

	private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

	private final RedisReachability reachability = new RedisReachability(this.registry, () -> false, true, GRACE,
			this.ticker::get, this.reconnects::incrementAndGet);

	private void advance(Duration duration) {
		this.ticker.addAndGet(duration.toNanos());
	}

	private void fail() {
		this.reachability.failed("read the sequence", new QueryTimeoutException("Redis command timed out"));
	}

	@Test
	void aFailureWithinTheGraceOfACallThatSucceededLeavesRedisUpAndItsConnectionsAlone(CapturedOutput output) {
		this.reachability.succeeded();
		advance(GRACE.dividedBy(2));
		fail();
		assertThat(this.reachability.isUp()).isTrue();
		assertThat(this.reconnects).hasValue(0);
		assertThat(this.registry.get("sequence.cluster.redis.errors").counter().count()).isEqualTo(1);
		assertThat(output).doesNotContain("Redis cannot be reached");
	}

	@Test
	void failuresPastTheGraceMakeRedisDownOnceAndStartTheConnectionsAgainOnceAGrace(CapturedOutput output) {
		advance(GRACE.plusMillis(1));
		fail();
		fail();
		assertThat(this.reachability.isUp()).isFalse();
		assertThat(this.reachability.health().getStatus()).isEqualTo(Status.DOWN);
		assertThat(this.registry.get("sequence.cluster.redis.up").gauge().value()).isZero();
		assertThat(this.reconnects).hasValue(1);
		advance(GRACE.plusMillis(1));
		fail();
		assertThat(this.reconnects).hasValue(2);
		assertThat(output.getOut().lines().filter((line) -> line.contains("Redis cannot be reached ("))).hasSize(1);
		this.reachability.succeeded();
		assertThat(this.reachability.health().getStatus()).isEqualTo(Status.UP);
		assertThat(output).contains("Redis can be reached again");
	}

	@Test
	void writesRefusedWhileReadsSucceedStartTheConnectionsAgainOnceAGraceWithOneWarning(CapturedOutput output) {
		// An old primary that Sentinel is failing over: it lost its replicas, answers
		// reads, and refuses writes until Sentinel makes it a replica
		advance(GRACE.plusMillis(1));
		this.reachability.succeeded();
		refuse("NOREPLICAS Not enough good replicas to write. script: 0590222b, on @user_script:1.");
		refuse("NOREPLICAS Not enough good replicas to write.");
		assertThat(this.reconnects).hasValue(1);
		assertThat(this.reachability.isUp()).isTrue();
		advance(GRACE.plusMillis(1));
		this.reachability.succeeded();
		refuse("READONLY You can't write against a read only replica.");
		assertThat(this.reconnects).hasValue(2);
		assertThat(output.getOut().lines().filter((line) -> line.contains("refuses writes ("))).hasSize(1);
		assertThat(output).doesNotContain("Redis cannot be reached");
		this.reachability.wrote();
		assertThat(output).contains("Redis takes writes again");
	}

	@Test
	void anotherErrorWhileReadsSucceedLeavesTheConnectionsAlone() {
		advance(GRACE.plusMillis(1));
		this.reachability.succeeded();
		refuse("ERR Error running script: attempt to compare nil with number");
		assertThat(this.reconnects).hasValue(0);
	}

	private void refuse(String error) {
		this.reachability.failed("renew the lease",
				new RedisSystemException("Error in execution", new RedisCommandExecutionException(error)));
	}

}

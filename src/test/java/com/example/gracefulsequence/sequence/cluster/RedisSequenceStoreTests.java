package com.example.gracefulsequence.sequence.cluster;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import com.example.gracefulsequence.sequence.SequenceValue;
import com.example.gracefulsequence.sequence.cluster.RedisSequenceStore.Acquired;
import com.example.gracefulsequence.sequence.cluster.RedisSequenceStore.Appended;
import com.example.gracefulsequence.sequence.cluster.RedisSequenceStore.Read;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests of {@link RedisSequenceStore} and its scripts against a real Redis: the fencing
 * of appends, one writer per position, the handover, the settings a cluster shares, the
 * carried-over value and the id floor.
 *
 * @author graceful-sequence contributors
 */
class RedisSequenceStoreTests {

	private static final Duration LEASE = Duration.ofSeconds(5);

	private static final String SETTINGS = "period=2000ms,bound=120,seed=none";

	private RedisServer redis;

	private LettuceConnectionFactory connectionFactory;

	private RedisSequenceStore store;

	@BeforeEach
	void startRedis(@TempDir Path directory) throws Exception {
		this.redis = RedisServer.start(directory);
		this.connectionFactory = connectionFactory(this.redis);
		this.store = new RedisSequenceStore(new StringRedisTemplate(this.connectionFactory), this.connectionFactory, 3);
	}

	static LettuceConnectionFactory connectionFactory(RedisServer redis) {
		LettuceConnectionFactory connectionFactory = new LettuceConnectionFactory(
				new RedisStandaloneConfiguration(RedisServer.HOST, redis.port()),
				LettuceClientConfiguration.builder().commandTimeout(Duration.ofSeconds(2)).build());
		connectionFactory.afterPropertiesSet();
		connectionFactory.start();
		return connectionFactory;
	}

	@AfterEach
	void stopRedis() {
		this.store.closeReader();
		this.connectionFactory.destroy();
		this.redis.close();
	}

	private Acquired acquire(String holder, String settings, long seen) {
		return this.store.acquire(holder, LEASE, settings, seen, "epoch-" + holder);
	}

	@Test
	void onlyTheLeaseHolderAppendsAndEachPositionIsWrittenOnce() {
		Acquired taken = acquire("a", SETTINGS, 0);
		assertThat(taken.outcome()).isEqualTo("taken");
		assertThat(taken.lastIndex()).isZero();
		assertThat(this.store.append(taken.lease(), 7, 1, -1).outcome()).isEqualTo("appended");
		Appended again = this.store.append(taken.lease(), 8, 1, -1);
		assertThat(again.outcome()).isEqualTo("position");
		assertThat(again.id()).isEqualTo(1);
		assertThat(again.lastLease()).isEqualTo(taken.lease());
		assertThat(this.store.append("a/epoch-a/99", 9, 2, -1).outcome()).isEqualTo("refused");
		assertThat(this.store.latest(10)).extracting(SequenceValue::value, SequenceValue::index)
			.containsExactly(Tuple.tuple(7, 1L));
	}

	@Test
	void aLeaseHeldByAnotherIsHeldUntilHandedOverAndTheFollowerIsToldOnTheControlStream() {
		Acquired first = acquire("a", SETTINGS, 0);
		Acquired second = acquire("b", SETTINGS, 0);
		assertThat(second.outcome()).isEqualTo("held");
		assertThat(second.time()).isBetween(1L, LEASE.toMillis());
		String control = this.store.lastControlId();
		assertThat(this.store.release(first.lease(), "a", false)).isEqualTo("released");
		Read read = this.store.read(0, control, Duration.ofMillis(100));
		assertThat(read.released()).isTrue();
		Acquired taken = acquire("b", SETTINGS, 0);
		assertThat(taken.outcome()).isEqualTo("taken");
		assertThat(taken.lease()).isNotEqualTo(first.lease());
		// The one who handed over cannot write beside the new leader
		assertThat(this.store.append(first.lease(), 1, 1, -1).outcome()).isEqualTo("refused");
		assertThat(this.store.renew(first.lease(), "a", LEASE)).isFalse();
		assertThat(this.store.renew(taken.lease(), "b", LEASE)).isTrue();
	}

	@Test
	void aLeaderAloneKeepsItsLeaseAtTheHandoverAndGivesItUpWhenItsSequenceCloses() {
		Acquired taken = acquire("a", SETTINGS, 0);
		assertThat(this.store.release(taken.lease(), "a", false)).isEqualTo("alone");
		assertThat(this.store.renew(taken.lease(), "a", LEASE)).isTrue();
		assertThat(this.store.release(taken.lease(), "a", true)).isEqualTo("released");
		assertThat(this.store.release(taken.lease(), "a", true)).isEqualTo("not-held");
	}

	@Test
	void anInstanceWhoseSettingsDifferNeverLeadsWhileAnotherIsPresentAndItsSettingsBecomeTheClustersWhenNoneIs() {
		String faster = "period=1000ms,bound=120,seed=none";
		Acquired taken = acquire("a", SETTINGS, 0);
		Acquired other = acquire("b", faster, 0);
		assertThat(other.outcome()).isEqualTo("mismatch");
		assertThat(other.lease()).isEqualTo(SETTINGS);
		this.store.release(taken.lease(), "a", true);
		assertThat(acquire("b", faster, 0).outcome()).isEqualTo("taken");
		assertThat(acquire("c", SETTINGS, 0).outcome()).isEqualTo("mismatch");
	}

	@Test
	void aValueCarriedOverKeepsItsIdAndGoesOnlyIntoAnEmptyHistory() {
		Acquired taken = acquire("a", SETTINGS, 0);
		long carriedId = 1_000_000L;
		Appended carried = this.store.append(taken.lease(), 42, 0, carriedId);
		assertThat(carried.outcome()).isEqualTo("appended");
		assertThat(carried.id()).isEqualTo(carriedId);
		assertThat(this.store.append(taken.lease(), 43, 0, carriedId + 1).outcome()).isEqualTo("position");
		SequenceValue restored = this.store.latest(1).get(0);
		assertThat(restored.source()).isEqualTo(SequenceValue.Source.RESTORED);
		assertThat(restored.index()).isZero();
		Appended next = this.store.append(taken.lease(), 5, 1, -1);
		assertThat(next.id()).isGreaterThan(carriedId);
	}

	@Test
	void idsGoOnAboveTheHighestIdAnInstanceHasSeenWhateverRedisClockSays() {
		long seen = System.currentTimeMillis() + Duration.ofDays(1).toMillis();
		Acquired taken = acquire("a", SETTINGS, seen);
		assertThat(this.store.append(taken.lease(), 1, 1, -1).id()).isEqualTo(seen + 1);
		assertThat(this.store.append(taken.lease(), 2, 2, -1).id()).isEqualTo(seen + 2);
	}

	@Test
	void theHistoryKeepsAtLeastWhatResumingStreamsNeedAndTheLatestValue() {
		Acquired taken = acquire("a", SETTINGS, 0);
		for (int index = 1; index <= 300; index++) {
			this.store.append(taken.lease(), index % 120, index, -1);
		}
		List<SequenceValue> latest = this.store.latest(3);
		assertThat(latest).extracting(SequenceValue::index).containsExactly(298L, 299L, 300L);
		assertThat(Long.parseLong(this.redis.cli("XLEN", RedisSequenceStore.VALUES))).isBetween(3L, 300L);
	}

	@Test
	void aFollowerReadsWhatCameAfterTheLastIdItRead() {
		Acquired taken = acquire("a", SETTINGS, 0);
		long first = this.store.append(taken.lease(), 1, 1, -1).id();
		this.store.append(taken.lease(), 2, 2, -1);
		Read read = this.store.read(first, "0-0", Duration.ofMillis(100));
		assertThat(read.values()).extracting(SequenceValue::value).containsExactly(2);
		assertThat(read.released()).isFalse();
		assertThat(this.store.info().getProperty("aof_enabled")).isEqualTo("1");
	}

}

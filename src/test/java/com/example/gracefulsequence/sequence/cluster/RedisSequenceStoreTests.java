package com.example.gracefulsequence.sequence.cluster;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
import static org.awaitility.Awaitility.await;

/**
 * Tests of {@link RedisSequenceStore} and its scripts against a real Redis: the fencing
 * of appends, one writer per position, the handover, the settings a cluster shares, the
 * carried-over value, the id floor, and values staged until a replica holds them.
 *
 * @author graceful-sequence contributors
 */
class RedisSequenceStoreTests {

	private static final Duration LEASE = Duration.ofSeconds(5);

	private static final Duration SETTLE = Duration.ofSeconds(5);

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
		this.store.closeWriter();
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
		assertThat(this.store.append(taken.lease(), 7, 1, -1, 0).outcome()).isEqualTo("appended");
		Appended again = this.store.append(taken.lease(), 8, 1, -1, 0);
		assertThat(again.outcome()).isEqualTo("position");
		assertThat(again.id()).isEqualTo(1);
		assertThat(again.lastLease()).isEqualTo(taken.lease());
		assertThat(this.store.append("a/epoch-a/99", 9, 2, -1, 0).outcome()).isEqualTo("refused");
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
		assertThat(this.store.append(first.lease(), 1, 1, -1, 0).outcome()).isEqualTo("refused");
		assertThat(this.store.renew(first.lease(), "a", LEASE)).isFalse();
		assertThat(this.store.renew(taken.lease(), "b", LEASE)).isTrue();
	}

	@Test
	void aTokenFromBeforeRedisLostItsDataFencesNothingAfterItEvenForTheSameInstance() {
		Acquired before = this.store.acquire("a", LEASE, SETTINGS, 0, "first-history");
		Appended first = this.store.append(before.lease(), 7, 1, -1, 0);
		assertThat(first.outcome()).isEqualTo("appended");
		// Redis restarted without its data: the counter of tokens starts again
		this.redis.cli("FLUSHALL");
		Acquired after = this.store.acquire("a", LEASE, SETTINGS, first.id(), "second-history");
		assertThat(after.outcome()).isEqualTo("taken");
		assertThat(after.lease()).as("the epoch of the new history is in the token").isNotEqualTo(before.lease());
		// A write of the same instance still under way with the old token (a paused
		// thread) cannot land in the new history
		assertThat(this.store.append(before.lease(), 9, 1, -1, 0).outcome()).isEqualTo("refused");
		assertThat(this.store.renew(before.lease(), "a", LEASE)).isFalse();
		assertThat(this.store.append(after.lease(), 9, 1, -1, 0).outcome()).isEqualTo("appended");
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
		Appended carried = this.store.append(taken.lease(), 42, 0, carriedId, 0);
		assertThat(carried.outcome()).isEqualTo("appended");
		assertThat(carried.id()).isEqualTo(carriedId);
		assertThat(this.store.append(taken.lease(), 43, 0, carriedId + 1, 0).outcome()).isEqualTo("position");
		SequenceValue restored = this.store.latest(1).get(0);
		assertThat(restored.source()).isEqualTo(SequenceValue.Source.RESTORED);
		assertThat(restored.index()).isZero();
		Appended next = this.store.append(taken.lease(), 5, 1, -1, 0);
		assertThat(next.id()).isGreaterThan(carriedId);
	}

	@Test
	void idsGoOnAboveTheHighestIdAnInstanceHasSeenWhateverRedisClockSays() {
		long seen = System.currentTimeMillis() + Duration.ofDays(1).toMillis();
		Acquired taken = acquire("a", SETTINGS, seen);
		assertThat(this.store.append(taken.lease(), 1, 1, -1, 0).id()).isEqualTo(seen + 1);
		assertThat(this.store.append(taken.lease(), 2, 2, -1, 0).id()).isEqualTo(seen + 2);
	}

	@Test
	void theHistoryKeepsAtLeastWhatResumingStreamsNeedAndTheLatestValue() {
		Acquired taken = acquire("a", SETTINGS, 0);
		for (int index = 1; index <= 300; index++) {
			this.store.append(taken.lease(), index % 120, index, -1, 0);
		}
		List<SequenceValue> latest = this.store.latest(3);
		assertThat(latest).extracting(SequenceValue::index).containsExactly(298L, 299L, 300L);
		assertThat(Long.parseLong(this.redis.cli("XLEN", RedisSequenceStore.VALUES))).isBetween(3L, 300L);
	}

	@Test
	void aFollowerReadsWhatCameAfterTheLastIdItRead() {
		Acquired taken = acquire("a", SETTINGS, 0);
		long first = this.store.append(taken.lease(), 1, 1, -1, 0).id();
		this.store.append(taken.lease(), 2, 2, -1, 0);
		Read read = this.store.read(first, "0-0", Duration.ofMillis(100));
		assertThat(read.values()).extracting(SequenceValue::value).containsExactly(2);
		assertThat(read.released()).isFalse();
		assertThat(this.store.info().getProperty("aof_enabled")).isEqualTo("1");
	}

	@Test
	void idsGoOnAboveTheHighestIdTheLeaderHasSeen() {
		Acquired taken = acquire("a", SETTINGS, 0);
		long seen = System.currentTimeMillis() + Duration.ofDays(1).toMillis();
		assertThat(this.store.append(taken.lease(), 1, 1, -1, seen).id()).isEqualTo(seen + 1);
	}

	@Test
	void aStagedValueReachesTheFollowedStreamOnlyOnceAReplicaHoldsItAndItIsCommitted(@TempDir Path directory)
			throws Exception {
		try (RedisServer replica = replica(directory)) {
			Acquired taken = acquire("a", SETTINGS, 0);
			Appended staged = this.store.stage(taken.lease(), 7, 1, -1, 0, 1, Duration.ofSeconds(1));
			assertThat(staged.outcome()).isEqualTo("staged");
			assertThat(staged.value()).isEqualTo(7);
			assertThat(staged.acknowledged()).isEqualTo(1);
			assertThat(this.store.latest(10)).isEmpty();
			assertThat(this.store.read(0, "0-0", Duration.ofMillis(50)).values()).isEmpty();
			assertThat(replica.cli("HGET", RedisSequenceStore.PENDING, "value")).isEqualTo("7");
			assertThat(this.store.commit(taken.lease(), staged.id(), SETTLE)).isEqualTo("committed");
			assertThat(this.store.latest(10))
				.extracting(SequenceValue::value, SequenceValue::index, SequenceValue::eventId)
				.containsExactly(Tuple.tuple(7, 1L, staged.id()));
			assertThat(this.store.commit(taken.lease(), staged.id(), SETTLE)).isEqualTo("gone");
			assertThat(this.store.stage(taken.lease(), 8, 1, -1, 0, 1, Duration.ofSeconds(1)).outcome())
				.isEqualTo("position");
		}
	}

	@Test
	void aValueNoReplicaAcknowledgedStaysStagedAndIsWaitedForAgainOnItsConnection(@TempDir Path directory)
			throws Exception {
		try (RedisServer replica = replica(directory)) {
			Acquired taken = acquire("a", SETTINGS, 0);
			// Every write so far acknowledged, so that only the staged value's is not
			await("the replica's acknowledgement of every write").atMost(Duration.ofSeconds(10))
				.until(this::acknowledgedEveryWrite);
			replica.pause();
			Appended waited;
			try {
				// A WAIT on any other connection than the write's would count the paused
				// replica, whose last acknowledgement covers every earlier write
				waited = this.store.stage(taken.lease(), 7, 1, -1, 0, 1, Duration.ofMillis(200));
			}
			finally {
				replica.resume();
			}
			assertThat(waited.outcome()).isEqualTo("staged");
			assertThat(waited.acknowledged()).isZero();
			Appended again = this.store.stage(taken.lease(), 9, 1, -1, 0, 1, Duration.ofSeconds(1));
			assertThat(again.outcome()).isEqualTo("staged");
			assertThat(again.id()).isEqualTo(waited.id());
			assertThat(again.value()).isEqualTo(7);
			assertThat(again.acknowledged()).isEqualTo(1);
		}
	}

	@Test
	void aValueStagedByALeaderThatIsGoneIsKeptAndCommittedByTheNextOneOnly() {
		Acquired first = acquire("a", SETTINGS, 0);
		Appended staged = this.store.stage(first.lease(), 7, 1, -1, 0, 1, Duration.ofMillis(50));
		assertThat(staged.acknowledged()).isZero();
		this.store.release(first.lease(), "a", true);
		Acquired next = acquire("b", SETTINGS, 0);
		Appended kept = this.store.stage(next.lease(), 9, 1, -1, 0, 0, Duration.ofMillis(50));
		assertThat(kept.outcome()).isEqualTo("staged");
		assertThat(kept.id()).isEqualTo(staged.id());
		assertThat(kept.value()).isEqualTo(7);
		assertThat(this.store.commit(first.lease(), staged.id(), SETTLE)).isEqualTo("refused");
		assertThat(this.store.commit(next.lease(), staged.id() + 1, SETTLE)).isEqualTo("gone");
		assertThat(this.store.commit(next.lease(), staged.id(), SETTLE)).isEqualTo("committed");
		assertThat(this.store.latest(1)).extracting(SequenceValue::value, SequenceValue::eventId)
			.containsExactly(Tuple.tuple(7, staged.id()));
	}

	@Test
	void aPrimaryThatLostAReplicaCommitsNothingForTheSettleTime(@TempDir Path directory) throws Exception {
		Acquired taken = acquire("a", SETTINGS, 0);
		try (RedisServer replica = replica(directory)) {
			Appended first = this.store.stage(taken.lease(), 7, 1, -1, 0, 1, Duration.ofSeconds(1));
			assertThat(this.store.commit(taken.lease(), first.id(), SETTLE)).isEqualTo("committed");
		}
		await("the replica gone").atMost(Duration.ofSeconds(10))
			.until(() -> this.redis.cli("INFO", "replication").contains("connected_slaves:0"));
		Appended second = this.store.stage(taken.lease(), 8, 2, -1, 0, 0, Duration.ofMillis(50));
		Duration settle = Duration.ofMillis(500);
		long lost = System.nanoTime();
		assertThat(this.store.commit(taken.lease(), second.id(), settle)).isEqualTo("settling");
		assertThat(this.store.commit(taken.lease(), second.id(), settle)).isEqualTo("settling");
		await("the settle time passed").atMost(Duration.ofSeconds(5))
			.pollInterval(Duration.ofMillis(50))
			.until(() -> this.store.commit(taken.lease(), second.id(), settle).equals("committed"));
		assertThat(Duration.ofNanos(System.nanoTime() - lost)).isGreaterThanOrEqualTo(settle.minusMillis(50));
		assertThat(this.store.latest(2)).extracting(SequenceValue::value).containsExactly(7, 8);
	}

	private boolean acknowledgedEveryWrite() {
		String info = this.redis.cli("INFO", "replication");
		Matcher offset = Pattern.compile("master_repl_offset:(\\d+)").matcher(info);
		Matcher acknowledged = Pattern.compile("slave0:.*offset=(\\d+)").matcher(info);
		return offset.find() && acknowledged.find() && offset.group(1).equals(acknowledged.group(1));
	}

	private RedisServer replica(Path directory) throws Exception {
		RedisServer replica = RedisServer.start(directory, "--replicaof", RedisServer.HOST,
				Integer.toString(this.redis.port()));
		await("the replica in sync").atMost(Duration.ofSeconds(10))
			.until(() -> this.redis.cli("INFO", "replication").contains("state=online"));
		return replica;
	}

}

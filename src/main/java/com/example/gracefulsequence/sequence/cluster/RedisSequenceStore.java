package com.example.gracefulsequence.sequence.cluster;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;
import java.util.stream.Stream;

import com.example.gracefulsequence.sequence.SequenceValue;
import com.example.gracefulsequence.sequence.SequenceValue.Source;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.output.IntegerOutput;
import org.jspecify.annotations.Nullable;

import org.springframework.core.NestedExceptionUtils;
import org.springframework.core.io.ClassPathResource;
import org.springframework.data.domain.Range;
import org.springframework.data.redis.connection.Limit;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.RedisPipelineException;
import org.springframework.data.redis.connection.ReturnType;
import org.springframework.data.redis.connection.lettuce.LettuceConnection;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.connection.stream.ByteRecord;
import org.springframework.data.redis.connection.stream.ReadOffset;
import org.springframework.data.redis.connection.stream.RecordId;
import org.springframework.data.redis.connection.stream.StreamOffset;
import org.springframework.data.redis.connection.stream.StreamReadOptions;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;

/**
 * The cluster's sequence as Redis keeps it, every key under one prefix with a format
 * version and in one hash slot: the values, a stream whose entry ids are the values'
 * event ids; the leader's lease, whose value is its fencing token; the instances present;
 * the settings and epoch of the cluster; the id floor; a control stream on which a leader
 * tells the followers that it handed its lease over; and the value a leader staged until
 * enough replicas hold it. Each write is one atomic script, loaded once and called by its
 * SHA.
 * <p>
 * Every call is bounded by Lettuce's command timeout, which the cluster keeps below the
 * period and a third of the lease; none runs on a request thread.
 *
 * @author graceful-sequence contributors
 */
final class RedisSequenceStore {

	/**
	 * What every key starts with: the application and the format version, in braces so
	 * that every key of the sequence is in one hash slot of a Redis Cluster.
	 */
	static final String PREFIX = "{graceful-sequence:v1}:";

	static final String LEASE = PREFIX + "lease";

	static final String VALUES = PREFIX + "values";

	static final String CONTROL = PREFIX + "control";

	static final String META = PREFIX + "meta";

	static final String MEMBERS = PREFIX + "members";

	static final String FLOOR = PREFIX + "floor";

	static final String TOKENS = PREFIX + "tokens";

	static final String PENDING = PREFIX + "pending";

	static final String REPLICATION = PREFIX + "replication";

	@SuppressWarnings("rawtypes")
	private static final RedisScript<List> ACQUIRE = script("acquire", List.class);

	private static final RedisScript<Long> RENEW = script("renew", Long.class);

	@SuppressWarnings("rawtypes")
	private static final RedisScript<List> APPEND = script("append", List.class);

	private static final RedisScript<String> RELEASE = script("release", String.class);

	private static final RedisScript<String> COMMIT = script("commit", String.class);

	private static final byte[] VALUES_KEY = VALUES.getBytes(StandardCharsets.UTF_8);

	private static final byte[] CONTROL_KEY = CONTROL.getBytes(StandardCharsets.UTF_8);

	private final StringRedisTemplate redis;

	private final RedisConnectionFactory connectionFactory;

	private final int keep;

	// The follower's own connection, held for its blocking reads; only its thread uses it
	private final HeldConnection reader;

	// The leader's own connection, on which a staged value and the WAIT for it go; only
	// the
	// leader's thread uses it
	private final HeldConnection writer;

	/**
	 * Create the store.
	 * @param redis the template, on Lettuce's shared connection
	 * @param connectionFactory where the follower's connection for blocking reads comes
	 * from
	 * @param keep how many values the history keeps at least
	 */
	RedisSequenceStore(StringRedisTemplate redis, RedisConnectionFactory connectionFactory, int keep) {
		this.redis = redis;
		this.connectionFactory = connectionFactory;
		this.keep = Math.max(keep, 1);
		this.reader = new HeldConnection(connectionFactory);
		this.writer = new HeldConnection(connectionFactory);
	}

	private static <T> RedisScript<T> script(String name, Class<T> resultType) {
		return RedisScript.of(new ClassPathResource("cluster/" + name + ".lua"), resultType);
	}

	/**
	 * Take the lead if nobody holds it; raise the id floor and mark the instance present
	 * in any case.
	 * @param holder the instance
	 * @param lease how long the lease lives without renewal
	 * @param settings the instance's period, bound and seed, as one string
	 * @param seen the highest id the instance has seen
	 * @param epoch an epoch for a history that has none yet
	 * @return the outcome
	 */
	Acquired acquire(String holder, Duration lease, String settings, long seen, String epoch) {
		List<?> reply = this.redis.execute(ACQUIRE, List.of(LEASE, VALUES, META, MEMBERS, FLOOR, TOKENS), holder,
				Long.toString(lease.toMillis()), settings, Long.toString(seen), epoch);
		String outcome = string(reply, 0);
		return switch (outcome) {
			case "taken" ->
				new Acquired(outcome, string(reply, 1), number(reply, 2), number(reply, 3), number(reply, 4));
			case "held" -> new Acquired(outcome, "", number(reply, 1), 0, 0);
			default -> new Acquired(outcome, string(reply, 1), 0, 0, 0);
		};
	}

	/**
	 * Renew the lease, if it is still the given one.
	 * @param lease the lease, as {@link #acquire} gave it
	 * @param holder the instance
	 * @param duration how long the lease lives without renewal
	 * @return whether the lease was renewed
	 */
	boolean renew(String lease, String holder, Duration duration) {
		Long renewed = this.redis.execute(RENEW, List.of(LEASE, MEMBERS), lease, Long.toString(duration.toMillis()),
				holder);
		return renewed != null && renewed == 1;
	}

	/**
	 * Append a value at the given position, if the lease is still the given one and the
	 * position is the next.
	 * @param lease the lease
	 * @param value the value
	 * @param index its position: the last one's plus one, or 0 for a value carried over
	 * into an empty history
	 * @param carriedId the id of a value carried over from a state file, or -1 for a new
	 * value
	 * @param seen the highest id the leader has seen
	 * @return the outcome
	 */
	Appended append(String lease, int value, long index, long carriedId, long seen) {
		List<?> reply = this.redis.execute(APPEND, List.of(LEASE, VALUES, FLOOR, PENDING),
				appendArguments(lease, value, index, carriedId, seen, false));
		return appended(reply, -1);
	}

	/**
	 * Stage a value at the given position, as {@link #append} writes one, and wait until
	 * the given number of replicas hold it: the write and Redis' {@code WAIT} go on the
	 * leader's own connection, between two {@code CLIENT ID}s that tell whether they went
	 * on one connection (a {@code WAIT} on a new connection would count replicas that
	 * never got the write). A value already staged after the last one is kept and waited
	 * for instead, whoever staged it and whatever position is asked for.
	 * @param lease the lease
	 * @param value the value
	 * @param index its position
	 * @param carriedId the id of a value carried over, or -1 for a new value
	 * @param seen the highest id the leader has seen
	 * @param replicas how many replicas must hold the value
	 * @param wait how long Redis waits for them, below the command timeout
	 * @return the outcome: {@code staged} with the value staged at the position and how
	 * many replicas hold it (-1 when the connection changed), or as {@link #append} says
	 */
	Appended stage(String lease, int value, long index, long carriedId, long seen, int replicas, Duration wait) {
		byte[][] keysAndArguments = Stream
			.concat(Stream.of(LEASE, VALUES, FLOOR, PENDING),
					Stream.of(appendArguments(lease, value, index, carriedId, seen, true)))
			.map(RedisSequenceStore::bytes)
			.toArray(byte[][]::new);
		List<Object> results = this.writer.pipeline((connection) -> {
			clientId(connection);
			connection.scriptingCommands().evalSha(APPEND.getSha1(), ReturnType.MULTI, 4, keysAndArguments);
			integer(connection, "WAIT", Integer.toString(replicas), Long.toString(wait.toMillis()));
			clientId(connection);
		}, APPEND);
		long acknowledged = results.get(0).equals(results.get(3)) ? (Long) results.get(2) : -1;
		List<String> reply = ((List<?>) results.get(1)).stream()
			.map((part) -> (part instanceof byte[] text) ? new String(text, StandardCharsets.UTF_8)
					: String.valueOf(part))
			.toList();
		return appended(reply, acknowledged);
	}

	/**
	 * Move the staged value into the values stream, that every instance follows, unless
	 * the primary lost a replica less than the settle time ago.
	 * @param lease the lease
	 * @param id the id of the staged value
	 * @param settle how long to commit nothing after the primary lost a replica
	 * @return {@code committed}, {@code settling}, {@code refused} (the lease is not the
	 * caller's) or {@code gone} (the value is no longer staged)
	 */
	String commit(String lease, long id, Duration settle) {
		String outcome = this.redis.execute(COMMIT, List.of(LEASE, VALUES, PENDING, REPLICATION), lease,
				Long.toString(id), Integer.toString(this.keep), Long.toString(settle.toMillis()));
		return (outcome != null) ? outcome : "gone";
	}

	private Object[] appendArguments(String lease, int value, long index, long carriedId, long seen, boolean stage) {
		return new Object[] { lease, Integer.toString(value), Long.toString(index), Integer.toString(this.keep),
				(carriedId >= 0) ? Long.toString(carriedId) : "", stage ? "1" : "0", Long.toString(seen) };
	}

	private static Appended appended(@Nullable List<?> reply, long acknowledged) {
		String outcome = string(reply, 0);
		return switch (outcome) {
			case "appended" -> new Appended(outcome, number(reply, 1), "", 0, 0, 0);
			case "staged" ->
				new Appended(outcome, number(reply, 1), "", (int) number(reply, 2), number(reply, 3), acknowledged);
			case "position" -> new Appended(outcome, number(reply, 1), string(reply, 2), 0, 0, 0);
			default -> new Appended(outcome, 0, "", 0, 0, 0);
		};
	}

	private static void clientId(RedisConnection connection) {
		integer(connection, "CLIENT", "ID");
	}

	private static void integer(RedisConnection connection, String command, String... arguments) {
		byte[][] bytes = Stream.of(arguments).map(RedisSequenceStore::bytes).toArray(byte[][]::new);
		((LettuceConnection) connection).execute(command, new IntegerOutput<>(ByteArrayCodec.INSTANCE), bytes);
	}

	private static byte[] bytes(Object text) {
		return text.toString().getBytes(StandardCharsets.UTF_8);
	}

	/**
	 * Give the lease up for another instance to take, or keep it if none is present.
	 * @param lease the lease
	 * @param holder the instance
	 * @param closing whether the sequence closes, so that the lease goes even if no other
	 * instance is present
	 * @return {@code released}, {@code alone} or {@code not-held}
	 */
	String release(String lease, String holder, boolean closing) {
		String outcome = this.redis.execute(RELEASE, List.of(LEASE, CONTROL, MEMBERS), lease, holder,
				closing ? "1" : "0");
		return (outcome != null) ? outcome : "not-held";
	}

	/**
	 * Leave the instances present, so that a leader does not hand over to this one.
	 * @param holder the instance
	 */
	void leave(String holder) {
		this.redis.opsForZSet().remove(MEMBERS, holder);
	}

	/**
	 * The latest values of the history, oldest first.
	 * @param count how many at most
	 * @return the values
	 */
	List<SequenceValue> latest(int count) {
		List<ByteRecord> records = this.redis.execute((RedisConnection connection) -> connection.streamCommands()
			.xRevRange(VALUES_KEY, Range.unbounded(), Limit.limit().count(count)), true);
		List<SequenceValue> values = new ArrayList<>();
		if (records != null) {
			for (ByteRecord record : records) {
				values.add(0, value(record));
			}
		}
		return values;
	}

	/**
	 * The id of the last entry of the control stream, where a follower starts to read it.
	 * @return the id, or {@code 0-0} if there is none
	 */
	String lastControlId() {
		List<ByteRecord> records = this.redis.execute((RedisConnection connection) -> connection.streamCommands()
			.xRevRange(CONTROL_KEY, Range.unbounded(), Limit.limit().count(1)), true);
		return (records == null || records.isEmpty()) ? "0-0" : records.get(0).getId().getValue();
	}

	/**
	 * Wait for what comes after the given ids on the values and the control stream, on
	 * the follower's own connection.
	 * @param afterValue the event id of the last value read
	 * @param afterControl the id of the last control entry read
	 * @param block how long to wait when there is nothing yet; below the command timeout
	 * @return what came, in order
	 */
	Read read(long afterValue, String afterControl, Duration block) {
		boolean fresh = !this.reader.isOpen();
		RedisConnection connection = this.reader.get();
		String primary = fresh ? replicationId(connection) : "";
		@SuppressWarnings("unchecked")
		List<ByteRecord> records = connection.streamCommands()
			.xRead(StreamReadOptions.empty().block(block).count(1000),
					StreamOffset.create(VALUES_KEY, ReadOffset.from(RecordId.of(afterValue, 0))),
					StreamOffset.create(CONTROL_KEY, ReadOffset.from(afterControl)));
		List<SequenceValue> values = new ArrayList<>();
		String control = afterControl;
		if (records != null) {
			for (ByteRecord record : records) {
				if (new String(record.getStream(), StandardCharsets.UTF_8).equals(VALUES)) {
					values.add(value(record));
				}
				else {
					control = record.getId().getValue();
				}
			}
		}
		return new Read(values, control, !control.equals(afterControl), primary);
	}

	/**
	 * Close the follower's connection, after an error or when it stops following.
	 */
	void closeReader() {
		this.reader.close();
	}

	/**
	 * Close the leader's connection, after an error or when it stops leading.
	 */
	void closeWriter() {
		this.writer.close();
	}

	/**
	 * Drop the shared connection, for a new one on the next call, and the follower's and
	 * the leader's own before their next use: one to a Redis that was cut off stays open,
	 * and with Sentinel a new one goes to the primary of the moment.
	 */
	void reconnect() {
		this.reader.markStale();
		this.writer.markStale();
		if (this.connectionFactory instanceof LettuceConnectionFactory lettuce) {
			lettuce.resetConnection();
		}
	}

	// The replication id of the primary: a new one after a failover, or a restart
	private static String replicationId(RedisConnection connection) {
		Properties replication = connection.serverCommands().info("replication");
		return (replication != null) ? replication.getProperty("master_replid", "") : "";
	}

	/**
	 * What Redis says of its persistence and eviction, for the warnings at startup.
	 * @return the {@code persistence} and {@code memory} sections of {@code INFO}
	 */
	Properties info() {
		Properties info = new Properties();
		Properties persistence = this.redis
			.execute((RedisConnection connection) -> connection.serverCommands().info("persistence"), true);
		Properties memory = this.redis
			.execute((RedisConnection connection) -> connection.serverCommands().info("memory"), true);
		if (persistence != null) {
			info.putAll(persistence);
		}
		if (memory != null) {
			info.putAll(memory);
		}
		return info;
	}

	private static SequenceValue value(ByteRecord record) {
		long index = 0;
		int value = 0;
		for (Map.Entry<byte[], byte[]> field : record.getValue().entrySet()) {
			String name = new String(field.getKey(), StandardCharsets.UTF_8);
			String text = new String(field.getValue(), StandardCharsets.UTF_8);
			if (name.equals("value")) {
				value = Integer.parseInt(text);
			}
			else if (name.equals("index")) {
				index = Long.parseLong(text);
			}
		}
		Instant emittedAt = Instant.ofEpochMilli(record.getId().getTimestamp());
		return new SequenceValue(value, index, emittedAt, (index == 0) ? Source.RESTORED : Source.LIVE);
	}

	private static String string(@Nullable List<?> reply, int index) {
		if (reply == null || reply.size() <= index) {
			throw new IllegalStateException("Unexpected reply from Redis: " + reply);
		}
		return String.valueOf(reply.get(index));
	}

	private static long number(@Nullable List<?> reply, int index) {
		return Long.parseLong(string(reply, index));
	}

	/**
	 * What an attempt to take the lead found.
	 *
	 * @param outcome {@code taken}, {@code held} or {@code mismatch}
	 * @param lease the lease taken, or the cluster's settings on a mismatch
	 * @param time Redis' time when it was taken, in ms, or how long the lease still lives
	 * when it is held
	 * @param lastId the event id of the last value, or 0 for none
	 * @param lastIndex the position of the last value, or 0 for none
	 */
	record Acquired(String outcome, String lease, long time, long lastId, long lastIndex) {

	}

	/**
	 * What an append did.
	 *
	 * @param outcome {@code appended}, {@code staged}, {@code refused} (the lease is not
	 * the caller's) or {@code position} (the position is not the next one)
	 * @param id the id of the value appended or staged, or the position of the last value
	 * on a {@code position} outcome
	 * @param lastLease on a {@code position} outcome, the lease that wrote the last value
	 * @param value on a {@code staged} outcome, the value staged
	 * @param index on a {@code staged} outcome, the position of the value staged: the one
	 * asked for, or the one after the last value when a value was staged there already
	 * @param acknowledged on a {@code staged} outcome, how many replicas hold it, or -1
	 * if that is not known
	 */
	record Appended(String outcome, long id, String lastLease, int value, long index, long acknowledged) {

	}

	/**
	 * What a follower's read brought.
	 *
	 * @param values the new values, oldest first
	 * @param control the id of the last control entry read
	 * @param released whether a leader said that it handed its lease over
	 * @param primary the replication id of the Redis primary when the read went on a new
	 * connection, else an empty string
	 */
	record Read(List<SequenceValue> values, String control, boolean released, String primary) {

	}

	/**
	 * A connection of one thread's own, opened when first needed and again after it was
	 * closed or marked stale by another thread.
	 */
	private static final class HeldConnection {

		private final RedisConnectionFactory connectionFactory;

		private @Nullable RedisConnection connection;

		private volatile boolean stale;

		HeldConnection(RedisConnectionFactory connectionFactory) {
			this.connectionFactory = connectionFactory;
		}

		boolean isOpen() {
			RedisConnection connection = this.connection;
			return !this.stale && connection != null && !connection.isClosed();
		}

		RedisConnection get() {
			if (this.stale) {
				this.stale = false;
				close();
			}
			RedisConnection connection = this.connection;
			if (connection == null || connection.isClosed()) {
				connection = this.connectionFactory.getConnection();
				this.connection = connection;
			}
			return connection;
		}

		/**
		 * Run commands in one pipeline on this connection, loading the script once and
		 * running them again if Redis does not have it (a new primary, a restart).
		 * @param commands the commands
		 * @param script the script they call by its SHA
		 * @return the results, in order
		 */
		List<Object> pipeline(Consumer<RedisConnection> commands, RedisScript<?> script) {
			RedisConnection connection = get();
			try {
				try {
					return pipelined(connection, commands);
				}
				catch (RedisPipelineException ex) {
					if (!noScript(ex) && ex.getPipelineResult()
						.stream()
						.noneMatch((result) -> result instanceof Throwable failure && noScript(failure))) {
						throw ex;
					}
					connection.scriptingCommands().scriptLoad(bytes(script.getScriptAsString()));
					return pipelined(connection, commands);
				}
			}
			catch (RuntimeException ex) {
				close();
				throw ex;
			}
		}

		private static boolean noScript(Throwable failure) {
			return NestedExceptionUtils.getMostSpecificCause(failure) instanceof RedisNoScriptException;
		}

		private static List<Object> pipelined(RedisConnection connection, Consumer<RedisConnection> commands) {
			connection.openPipeline();
			boolean queued = false;
			try {
				commands.accept(connection);
				queued = true;
			}
			finally {
				if (!queued) {
					connection.closePipeline();
				}
			}
			return connection.closePipeline();
		}

		void markStale() {
			this.stale = true;
		}

		void close() {
			RedisConnection connection = this.connection;
			this.connection = null;
			if (connection != null) {
				try {
					connection.close();
				}
				catch (RuntimeException ex) {
					// Closing a broken connection: nothing left to release
				}
			}
		}

	}

}

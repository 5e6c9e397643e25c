package com.example.gracefulsequence.sequence.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;

import com.example.gracefulsequence.ServiceProcess;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.awaitility.Awaitility.await;

/**
 * Instances of the packaged jar in cluster mode on one {@link RedisServer} or on a
 * {@link RedisSentinelSet}, each in a directory of its own, for process-level tests;
 * closing it ends every instance it started, by its handle.
 *
 * @author graceful-sequence contributors
 */
final class ClusterInstances implements AutoCloseable {

	/**
	 * Room for a busy two-core machine in the bounds the tests hold gaps and waits to.
	 */
	static final Duration MARGIN = Duration.ofMillis(250);

	private static final JsonMapper json = JsonMapper.builder().build();

	private final Supplier<RedisServer> redis;

	private final List<String> connection;

	private final @Nullable RedisServer owned;

	private final Path root;

	private final List<String> arguments;

	private final List<ServiceProcess> started = new ArrayList<>();

	private ClusterInstances(Supplier<RedisServer> redis, List<String> connection, @Nullable RedisServer owned,
			Path root, List<String> arguments) {
		this.redis = redis;
		this.connection = connection;
		this.owned = owned;
		this.root = root;
		this.arguments = arguments;
	}

	/**
	 * Start instances and wait until each is ready.
	 * @param redis the Redis they share
	 * @param root where their directories go
	 * @param count how many to start
	 * @param arguments the arguments of every instance, besides cluster mode and Redis
	 * @return the instances
	 * @throws IOException if one cannot be started
	 */
	static ClusterInstances start(RedisServer redis, Path root, int count, String... arguments) throws IOException {
		return start(new ClusterInstances(() -> redis, url(redis), null, root, List.of(arguments)), count);
	}

	/**
	 * Start instances on a Sentinel set, which they find through Spring Boot's
	 * {@code spring.data.redis.sentinel.*} properties only, and wait until each is ready;
	 * the history is read from the primary the Sentinels name at the time.
	 * @param sentinels the Sentinel set they share
	 * @param root where their directories go
	 * @param count how many to start
	 * @param arguments the arguments of every instance, besides cluster mode and Redis
	 * @return the instances
	 * @throws IOException if one cannot be started
	 */
	static ClusterInstances startWithSentinels(RedisSentinelSet sentinels, Path root, int count, String... arguments)
			throws IOException {
		return start(
				new ClusterInstances(sentinels::primary, sentinels.bootArguments(), null, root, List.of(arguments)),
				count);
	}

	/**
	 * Start a Redis of their own, in {@code redis} under the root, and instances on it,
	 * and wait until each is ready; closing them ends the Redis too.
	 * @param root where their directories go
	 * @param count how many to start
	 * @param arguments the arguments of every instance, besides cluster mode and Redis
	 * @return the instances
	 * @throws IOException if Redis or one of them cannot be started
	 */
	static ClusterInstances startWithRedis(Path root, int count, String... arguments) throws IOException {
		RedisServer redis = RedisServer.start(Files.createDirectories(root.resolve("redis")));
		try {
			return start(new ClusterInstances(() -> redis, url(redis), redis, root, List.of(arguments)), count);
		}
		catch (IOException | RuntimeException | Error ex) {
			redis.close();
			throw ex;
		}
	}

	private static List<String> url(RedisServer redis) {
		return List.of("--spring.data.redis.url=" + redis.url());
	}

	private static ClusterInstances start(ClusterInstances instances, int count) throws IOException {
		try {
			for (int i = 0; i < count; i++) {
				instances.startOne();
			}
			instances.started.forEach(ServiceProcess::awaitReady);
		}
		catch (IOException | RuntimeException | Error ex) {
			instances.close();
			throw ex;
		}
		return instances;
	}

	/**
	 * Start one more instance, without waiting for it.
	 * @param more arguments for this one
	 * @return the instance
	 * @throws IOException if it cannot be started
	 */
	ServiceProcess startOne(String... more) throws IOException {
		Path directory = Files.createDirectories(this.root.resolve("instance-" + (this.started.size() + 1)));
		String[] all = Stream
			.of(Stream.of("--sequence.cluster.enabled=true"), this.connection.stream(), this.arguments.stream(),
					Arrays.stream(more))
			.flatMap((arguments) -> arguments)
			.toArray(String[]::new);
		ServiceProcess instance = ServiceProcess.start(directory, all);
		this.started.add(instance);
		return instance;
	}

	/**
	 * The instances started, running or not.
	 * @return the instances, in the order they were started
	 */
	List<ServiceProcess> all() {
		return List.copyOf(this.started);
	}

	/**
	 * Wait until exactly one running instance leads, and name it.
	 * @param timeout how long to wait at most
	 * @return the leader
	 */
	ServiceProcess awaitLeader(Duration timeout) {
		List<ServiceProcess> leaders = new ArrayList<>();
		await("one leader").atMost(timeout).pollInterval(Duration.ofMillis(100)).until(() -> {
			leaders.clear();
			for (ServiceProcess instance : this.started) {
				if (instance.isAlive() && leads(instance)) {
					leaders.add(instance);
				}
			}
			return leaders.size() == 1;
		});
		return leaders.get(0);
	}

	/**
	 * Whether an instance says that it leads, as its {@code sequence.cluster.leader}
	 * gauge shows.
	 * @param instance the instance
	 * @return whether it leads; {@code false} if it does not answer
	 */
	static boolean leads(ServiceProcess instance) {
		try {
			return instance.meter("sequence.cluster.leader") == 1.0;
		}
		catch (IOException | RuntimeException ex) {
			return false;
		}
	}

	/**
	 * The cluster's history as Redis holds it.
	 * @return the entries, oldest first
	 */
	List<Entry> history() {
		return history(this.redis.get());
	}

	/**
	 * The cluster's history as one Redis server holds it, such as a primary cut off from
	 * the others.
	 * @param redis the server
	 * @return the entries, oldest first
	 */
	static List<Entry> history(RedisServer redis) {
		JsonNode entries = json.readTree(redis.cli("--json", "XRANGE", RedisSequenceStore.VALUES, "-", "+"));
		List<Entry> history = new ArrayList<>();
		for (JsonNode entry : entries) {
			String id = entry.get(0).asString();
			JsonNode fields = entry.get(1);
			Map<String, String> values = new HashMap<>();
			for (int i = 0; i + 1 < fields.size(); i += 2) {
				values.put(fields.get(i).asString(), fields.get(i + 1).asString());
			}
			int value = Integer.parseInt(values.get("value"));
			long index = Long.parseLong(values.get("index"));
			String lease = values.getOrDefault("lease", "");
			history.add(new Entry(Long.parseLong(id.substring(0, id.indexOf('-'))), value, index, lease));
		}
		return history;
	}

	/**
	 * Wait until the cluster's history holds at least the given number of values, at most
	 * as long as that many periods and half a minute to start or take over.
	 * @param size the number of values
	 * @param period the period of the sequence
	 */
	void awaitHistory(int size, Duration period) {
		await("a history of " + size + " values").atMost(period.multipliedBy(size).plusSeconds(30))
			.pollInterval(Duration.ofMillis(100))
			.ignoreExceptions()
			.until(() -> history().size() >= size);
	}

	/**
	 * The last value of a history.
	 * @param history the history, not empty
	 * @return its last value
	 */
	static Entry last(List<Entry> history) {
		return history.get(history.size() - 1);
	}

	/**
	 * The Redis the instances share: the one server, or the primary the Sentinels name
	 * now.
	 * @return the Redis
	 */
	RedisServer redis() {
		return this.redis.get();
	}

	@Override
	public void close() {
		this.started.forEach(ServiceProcess::close);
		if (this.owned != null) {
			this.owned.close();
		}
	}

	/**
	 * One value of the cluster's history.
	 *
	 * @param id its event id, the time Redis appended it in ms
	 * @param value the value
	 * @param index its position in the cluster's sequence, 0 for a value carried over
	 * @param lease the lease of the leader that appended it
	 */
	record Entry(long id, int value, long index, String lease) {

	}

}

package com.example.gracefulsequence.sequence.cluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import com.example.gracefulsequence.EventStream;
import com.example.gracefulsequence.EventStream.Event;
import com.example.gracefulsequence.ServiceProcess;
import com.example.gracefulsequence.sequence.cluster.ClusterInstances.Entry;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What one stream client received, as a test's own record: every value event of a stream,
 * read on a thread of its own until the stream ends or is closed (or, for a record that
 * resumes, on the streams it opens again with {@code Last-Event-ID} until it is closed),
 * with checks against the cluster's history.
 *
 * @author graceful-sequence contributors
 */
final class StreamRecord implements AutoCloseable {

	private static final JsonMapper json = JsonMapper.builder().build();

	// An EventSource's own reconnection time is longer; the test resumes sooner
	private static final Duration RETRY = Duration.ofMillis(200);

	private final List<Entry> values = new CopyOnWriteArrayList<>();

	// When each value arrived, by System.nanoTime(), in the order of the values
	private final List<Long> arrivals = new CopyOnWriteArrayList<>();

	private final List<String> others = new CopyOnWriteArrayList<>();

	private final @Nullable ServiceProcess resumeOn;

	private final Thread reader;

	private volatile EventStream stream;

	private volatile boolean closed;

	private volatile int resumed;

	private StreamRecord(EventStream stream, String name, @Nullable ServiceProcess resumeOn) {
		this.stream = stream;
		this.resumeOn = resumeOn;
		this.reader = new Thread(this::read, name);
		this.reader.setDaemon(true);
		this.reader.start();
	}

	/**
	 * Open a stream on an instance and record it.
	 * @param instance the instance
	 * @param lastEventId the {@code Last-Event-ID} to resume from, or {@code null}
	 * @return the record
	 * @throws IOException if the stream cannot be opened
	 * @throws InterruptedException if interrupted while opening it
	 */
	static StreamRecord open(ServiceProcess instance, @Nullable String lastEventId)
			throws IOException, InterruptedException {
		EventStream stream = EventStream.open(client(), instance.port(), "", lastEventId);
		assertThat(stream.response().statusCode()).isEqualTo(200);
		return new StreamRecord(stream, "stream-record-" + instance.port(), null);
	}

	/**
	 * Open a stream on an instance and record it, and open it again whenever it ends,
	 * with the {@code Last-Event-ID} of the last value received, as an
	 * {@code EventSource} does, until the record is closed.
	 * @param instance the instance
	 * @return the record
	 * @throws IOException if the first stream cannot be opened
	 * @throws InterruptedException if interrupted while opening it
	 */
	static StreamRecord openResuming(ServiceProcess instance) throws IOException, InterruptedException {
		EventStream stream = EventStream.open(client(), instance.port(), "", null);
		assertThat(stream.response().statusCode()).isEqualTo(200);
		return new StreamRecord(stream, "stream-record-" + instance.port(), instance);
	}

	private static HttpClient client() {
		return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
	}

	/**
	 * Open a stream on each instance of a cluster and record it.
	 * @param cluster the instances
	 * @return the records, one per instance in their order
	 * @throws IOException if a stream cannot be opened
	 * @throws InterruptedException if interrupted while opening one
	 */
	static List<StreamRecord> openOnEach(ClusterInstances cluster) throws IOException, InterruptedException {
		List<StreamRecord> streams = new ArrayList<>();
		for (ServiceProcess instance : cluster.all()) {
			streams.add(open(instance, null));
		}
		return streams;
	}

	private void read() {
		readToTheEnd();
		while (!this.closed && this.resumeOn != null) {
			List<Entry> received = values();
			String lastEventId = (received.isEmpty()) ? null : Long.toString(received.get(received.size() - 1).id());
			try {
				EventStream next = EventStream.open(client(), this.resumeOn.port(), "", lastEventId);
				this.stream = next;
				if (this.closed) {
					next.close();
					return;
				}
				if (next.response().statusCode() == 200) {
					this.resumed++;
					readToTheEnd();
				}
			}
			catch (IOException | UncheckedIOException ex) {
				// The instance does not answer now: as an EventSource, try again a moment
				// later
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				return;
			}
			retryPause();
		}
	}

	private void retryPause() {
		try {
			Thread.sleep(RETRY.toMillis());
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			this.closed = true;
		}
	}

	private void readToTheEnd() {
		try {
			for (Event event = this.stream.next(); event != null; event = this.stream.next()) {
				if ("value".equals(event.name()) && event.id() != null) {
					JsonNode body = json.readTree(event.data());
					long emittedAt = Instant.parse(body.get("emittedAt").asString()).toEpochMilli();
					if (emittedAt != Long.parseLong(event.id())) {
						this.others.add("emittedAt " + emittedAt + " is not the id of " + event.id());
					}
					this.values.add(new Entry(Long.parseLong(event.id()), body.get("value").asInt(),
							body.get("index").asLong(), ""));
					this.arrivals.add(System.nanoTime());
				}
				else {
					this.others.add(event.name() + " " + event.data());
				}
			}
		}
		catch (UncheckedIOException | IllegalStateException ex) {
			// Closed by the test
		}
	}

	/**
	 * The value events received so far, in order; the lease is not on the wire.
	 * @return the values
	 */
	List<Entry> values() {
		return List.copyOf(this.values);
	}

	/**
	 * The longest time this client waited for a value, between two that it received,
	 * across the streams it opened again: the pause it saw, which an id, the time the
	 * leader appended the value, does not show when the value waited to be committed.
	 * @return the longest wait, zero before two values
	 */
	Duration longestWait() {
		List<Long> arrivals = List.copyOf(this.arrivals);
		long longest = 0;
		for (int i = 1; i < arrivals.size(); i++) {
			longest = Math.max(longest, arrivals.get(i) - arrivals.get(i - 1));
		}
		return Duration.ofNanos(longest);
	}

	/**
	 * The other events received so far, such as {@code shutdown}.
	 * @return each as its name and data
	 */
	List<String> others() {
		return List.copyOf(this.others);
	}

	/**
	 * The id of the last value received.
	 * @return the id
	 */
	long lastId() {
		List<Entry> values = values();
		assertThat(values).isNotEmpty();
		return values.get(values.size() - 1).id();
	}

	/**
	 * Whether the stream has ended.
	 * @return whether its reader has stopped
	 */
	boolean ended() {
		return !this.reader.isAlive();
	}

	/**
	 * Check that the values received are the cluster's, each once and in order, with no
	 * gap in the history from the first received to the last; the history is read after
	 * the values, so that it holds every one of them.
	 * @param cluster the cluster, whose history holds at least that range
	 */
	void assertFollowed(ClusterInstances cluster) {
		List<Entry> received = values();
		assertFollowed(received, cluster.history());
		assertThat(others()).noneMatch((event) -> event.startsWith("emittedAt"));
	}

	/**
	 * Check that values a client received, on one stream or on several in turn, are the
	 * cluster's, each once and in order, with no gap in the history from the first
	 * received to the last.
	 * @param received the values, in the order the client received them
	 * @param history the cluster's history, read after the values, so that it holds at
	 * least that range
	 */
	static void assertFollowed(List<Entry> received, List<Entry> history) {
		assertThat(received).isNotEmpty();
		long first = received.get(0).id();
		long last = received.get(received.size() - 1).id();
		List<Entry> expected = new ArrayList<>();
		for (Entry entry : history) {
			if (entry.id() >= first && entry.id() <= last) {
				expected.add(new Entry(entry.id(), entry.value(), entry.index(), ""));
			}
		}
		assertThat(received).as("values received, against the cluster's history").isEqualTo(expected);
	}

	/**
	 * How many times the stream was opened again after it ended.
	 * @return the number of resumed streams
	 */
	int resumed() {
		return this.resumed;
	}

	@Override
	public void close() {
		this.closed = true;
		this.stream.close();
	}

}

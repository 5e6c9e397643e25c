package com.example.gracefulsequence;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.example.gracefulsequence.EventStream.Event;
import org.jspecify.annotations.Nullable;

/**
 * A {@code GET} over a plain socket whose response is read as server-sent events: the
 * request is written when the connection opens and the response read only when asked for,
 * so that a test can open many streams at once before it reads any, and see the exact
 * status, headers and end of each. Every read is bounded by a timeout.
 *
 * @author graceful-sequence contributors
 */
public final class StreamConnection implements Closeable {

	/**
	 * The request header of an {@code EventSource}.
	 */
	public static final String EVENT_STREAM = "Accept: text/event-stream";

	// Generous: a burst of connections may overflow the accept backlog, and the kernel
	// retries a dropped SYN after one second, then three
	private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(20);

	private static final Duration READ_TIMEOUT = Duration.ofSeconds(15);

	private final Socket socket;

	private final InputStream in;

	private int status;

	private final Map<String, String> headers = new LinkedHashMap<>();

	private boolean chunked;

	// Bytes left in the body or the current chunk; -1 for a body that ends when the
	// connection does, or before a chunk's size is read
	private long left = -1;

	private boolean ended;

	private int comments;

	private StreamConnection(Socket socket) throws IOException {
		this.socket = socket;
		this.in = new BufferedInputStream(socket.getInputStream());
	}

	/**
	 * Connect to the given port on loopback and send a {@code GET}.
	 * @param port the port
	 * @param path the path and query
	 * @param headers request header lines, such as {@link #EVENT_STREAM}, written one
	 * byte per character (ISO-8859-1), so that a test can send any bytes
	 * @return the connection, its response not read yet
	 * @throws IOException if the connection cannot be made or the request written
	 */
	public static StreamConnection open(int port, String path, String... headers) throws IOException {
		return open(new Socket(), port, path, headers);
	}

	/**
	 * Connect from the given loopback address to the given port on loopback and send a
	 * {@code GET}, as a client on another address would.
	 * @param from the local address, such as 127.0.0.2
	 * @param port the port
	 * @param path the path and query
	 * @param headers request header lines, as for {@link #open(int, String, String...)}
	 * @return the connection, its response not read yet
	 * @throws IOException if the connection cannot be made or the request written
	 */
	public static StreamConnection openFrom(String from, int port, String path, String... headers) throws IOException {
		return open(HttpConnection.socketFrom(from), port, path, headers);
	}

	/**
	 * Connect to the given port on loopback with a small receive buffer and send a
	 * {@code GET}: when the test stops reading, the buffers between the server and it
	 * fill in a moment rather than after megabytes.
	 * @param port the port
	 * @param receiveBuffer the size of the receive buffer in bytes
	 * @param path the path and query
	 * @param headers request header lines, as for {@link #open(int, String, String...)}
	 * @return the connection, its response not read yet
	 * @throws IOException if the connection cannot be made or the request written
	 */
	public static StreamConnection open(int port, int receiveBuffer, String path, String... headers)
			throws IOException {
		Socket socket = new Socket();
		try {
			socket.setReceiveBufferSize(receiveBuffer);
		}
		catch (IOException ex) {
			socket.close();
			throw ex;
		}
		return open(socket, port, path, headers);
	}

	private static StreamConnection open(Socket socket, int port, String path, String... headers) throws IOException {
		try {
			socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
					(int) CONNECT_TIMEOUT.toMillis());
			socket.setSoTimeout((int) READ_TIMEOUT.toMillis());
			StringBuilder request = new StringBuilder("GET ").append(path)
				.append(" HTTP/1.1\r\nHost: 127.0.0.1:")
				.append(port)
				.append("\r\n");
			for (String header : headers) {
				request.append(header).append("\r\n");
			}
			socket.getOutputStream().write(request.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
			socket.getOutputStream().flush();
			return new StreamConnection(socket);
		}
		catch (IOException ex) {
			socket.close();
			throw ex;
		}
	}

	/**
	 * The status of the response, read with its headers on the first call.
	 * @return the status code
	 * @throws IOException if the head cannot be read in time
	 */
	public int status() throws IOException {
		if (this.status == 0) {
			readHead();
		}
		return this.status;
	}

	/**
	 * The value of a response header.
	 * @param name the name, in any case
	 * @return the value, or {@code null} if the response does not carry it
	 * @throws IOException if the head cannot be read in time
	 */
	public @Nullable String header(String name) throws IOException {
		status();
		return this.headers.get(name.toLowerCase(Locale.ROOT));
	}

	/**
	 * Read the next event of the response body.
	 * @return the event, or {@code null} when the body has ended
	 * @throws IOException if none comes in time or the connection fails
	 */
	public @Nullable Event next() throws IOException {
		status();
		List<String> fields = new ArrayList<>();
		for (String line = bodyLine(); line != null; line = bodyLine()) {
			if (line.startsWith(":")) {
				// A comment, which an EventSource ignores: the heartbeat of a quiet
				// stream
				this.comments++;
			}
			else if (!line.isEmpty()) {
				fields.add(line);
			}
			else if (!fields.isEmpty()) {
				return Event.of(fields);
			}
		}
		if (!fields.isEmpty()) {
			throw new EOFException("The body ended inside an event: " + fields);
		}
		return null;
	}

	/**
	 * How many comment lines {@link #next()} has read past.
	 * @return the number of comments
	 */
	public int comments() {
		return this.comments;
	}

	/**
	 * Whether the server closed the connection: it sends nothing more and reads as ended.
	 * @return {@code true} if the connection is at its end
	 * @throws IOException if nothing comes in time
	 */
	public boolean isClosedByServer() throws IOException {
		return this.in.read() == -1;
	}

	private void readHead() throws IOException {
		String statusLine = line();
		if (statusLine == null) {
			throw new EOFException("The server closed the connection before answering");
		}
		String[] parts = statusLine.split(" ", 3);
		if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
			throw new IOException("Not an HTTP status line: " + statusLine);
		}
		for (String line = line(); line != null && !line.isEmpty(); line = line()) {
			int colon = line.indexOf(':');
			if (colon > 0) {
				this.headers.merge(line.substring(0, colon).trim().toLowerCase(Locale.ROOT),
						line.substring(colon + 1).trim(), (first, second) -> first + ", " + second);
			}
		}
		this.chunked = "chunked".equalsIgnoreCase(this.headers.get("transfer-encoding"));
		String length = this.headers.get("content-length");
		if (!this.chunked && length != null) {
			this.left = Long.parseLong(length);
		}
		this.status = Integer.parseInt(parts[1]);
	}

	private @Nullable String bodyLine() throws IOException {
		ByteArrayOutputStream line = new ByteArrayOutputStream();
		int next = bodyByte();
		if (next == -1) {
			return null;
		}
		while (next != -1 && next != '\n') {
			if (next != '\r') {
				line.write(next);
			}
			next = bodyByte();
		}
		return line.toString(StandardCharsets.UTF_8);
	}

	private int bodyByte() throws IOException {
		if (this.ended) {
			return -1;
		}
		if (this.chunked && this.left <= 0) {
			if (this.left == 0) {
				line();
			}
			String size = line();
			if (size == null) {
				throw new EOFException("The connection closed inside a chunked body");
			}
			int semicolon = size.indexOf(';');
			this.left = Long.parseLong(((semicolon >= 0) ? size.substring(0, semicolon) : size).trim(), 16);
			if (this.left == 0) {
				for (String trailer = line(); trailer != null && !trailer.isEmpty(); trailer = line()) {
					// The service sends no trailers
				}
				this.ended = true;
				return -1;
			}
		}
		if (this.left == 0) {
			this.ended = true;
			return -1;
		}
		int next = this.in.read();
		if (next == -1) {
			this.ended = true;
			if (this.left > 0) {
				throw new EOFException("The connection closed inside the body");
			}
			return -1;
		}
		if (this.left > 0) {
			this.left--;
		}
		return next;
	}

	private @Nullable String line() throws IOException {
		return HttpConnection.readLine(this.in);
	}

	/**
	 * The port of this end of the connection.
	 * @return the local port
	 */
	public int localPort() {
		return this.socket.getLocalPort();
	}

	/**
	 * Close the connection with a reset rather than politely, as a client that crashed
	 * would.
	 * @throws IOException if the connection cannot be closed
	 */
	public void reset() throws IOException {
		this.socket.setSoLinger(true, 0);
		this.socket.close();
	}

	@Override
	public void close() throws IOException {
		this.socket.close();
	}

}

package com.example.gracefulsequence;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A plain HTTP/1.1 client connection to the service on loopback, kept alive across
 * requests until the server announces {@code Connection: close} or the caller closes it.
 * Tests use it where they must see exactly which connection a request went over and which
 * headers came back, which a pooling client hides.
 *
 * @author graceful-sequence contributors
 */
public final class HttpConnection implements Closeable {

	private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);

	private static final Duration READ_TIMEOUT = Duration.ofSeconds(15);

	private final Socket socket;

	private final InputStream in;

	private final OutputStream out;

	private final int port;

	private int requests;

	private HttpConnection(Socket socket, int port) throws IOException {
		this.socket = socket;
		this.in = new BufferedInputStream(socket.getInputStream());
		this.out = socket.getOutputStream();
		this.port = port;
	}

	/**
	 * Connect to the given port on loopback.
	 * @param port the port
	 * @return the connection
	 * @throws IOException if the connection cannot be made, for example
	 * {@link java.net.ConnectException} when the port is closed
	 */
	public static HttpConnection open(int port) throws IOException {
		return connect(new Socket(), port);
	}

	/**
	 * Connect to the given port on loopback from the given local address, such as
	 * {@code 127.0.0.2}: another client, as a proxy that counts per address sees it.
	 * @param from the local address
	 * @param port the port
	 * @return the connection
	 * @throws IOException if the connection cannot be made
	 */
	public static HttpConnection openFrom(String from, int port) throws IOException {
		return connect(socketFrom(from), port);
	}

	/**
	 * A socket bound to the given local address, not connected yet.
	 * @param from the local address
	 * @return the socket
	 * @throws IOException if the address cannot be bound
	 */
	static Socket socketFrom(String from) throws IOException {
		Socket socket = new Socket();
		try {
			socket.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
			return socket;
		}
		catch (IOException ex) {
			socket.close();
			throw ex;
		}
	}

	private static HttpConnection connect(Socket socket, int port) throws IOException {
		try {
			socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
					(int) CONNECT_TIMEOUT.toMillis());
			socket.setSoTimeout((int) READ_TIMEOUT.toMillis());
			socket.setTcpNoDelay(true);
			return new HttpConnection(socket, port);
		}
		catch (IOException ex) {
			socket.close();
			throw ex;
		}
	}

	/**
	 * Send one request on a new connection and close it.
	 * @param port the port
	 * @param path the path and query
	 * @return the response
	 * @throws IOException if the exchange fails
	 */
	public static Response get(int port, String path) throws IOException {
		try (HttpConnection connection = open(port)) {
			return connection.get(path);
		}
	}

	/**
	 * Send a {@code GET} on this connection and read the whole response.
	 * @param path the path and query
	 * @return the response
	 * @throws IOException if the exchange fails, {@link EOFException} if the server
	 * closed the connection before answering
	 */
	public Response get(String path) throws IOException {
		this.requests++;
		String request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + this.port
				+ "\r\nAccept: */*\r\nUser-Agent: graceful-sequence-it\r\n\r\n";
		this.out.write(request.getBytes(StandardCharsets.US_ASCII));
		this.out.flush();
		String statusLine = readLine();
		if (statusLine == null) {
			throw new EOFException("The server closed the connection before answering " + path);
		}
		String[] parts = statusLine.split(" ", 3);
		if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
			throw new IOException("Not an HTTP status line: " + statusLine);
		}
		int status = Integer.parseInt(parts[1]);
		Map<String, String> headers = new LinkedHashMap<>();
		for (String line = readLine(); line != null && !line.isEmpty(); line = readLine()) {
			int colon = line.indexOf(':');
			if (colon > 0) {
				headers.merge(line.substring(0, colon).trim().toLowerCase(Locale.ROOT),
						line.substring(colon + 1).trim(), (first, second) -> first + ", " + second);
			}
		}
		byte[] body = readBody(status, headers);
		return new Response(status, headers, new String(body, StandardCharsets.UTF_8));
	}

	/**
	 * Whether the server closed the connection: it sends nothing more and reads as ended.
	 * @return {@code true} if the connection is at its end
	 * @throws IOException if nothing comes in time
	 */
	public boolean isClosedByServer() throws IOException {
		return this.in.read() == -1;
	}

	/**
	 * How many requests were sent on this connection.
	 * @return the number of requests
	 */
	public int requests() {
		return this.requests;
	}

	private byte[] readBody(int status, Map<String, String> headers) throws IOException {
		if (status == 204 || status == 304 || (status >= 100 && status < 200)) {
			return new byte[0];
		}
		if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
			ByteArrayOutputStream body = new ByteArrayOutputStream();
			while (true) {
				String size = readLine();
				if (size == null) {
					throw new EOFException("The connection closed inside a chunked body");
				}
				int semicolon = size.indexOf(';');
				int length = Integer.parseInt(((semicolon >= 0) ? size.substring(0, semicolon) : size).trim(), 16);
				if (length == 0) {
					for (String trailer = readLine(); trailer != null && !trailer.isEmpty(); trailer = readLine()) {
						// Trailers are not used by the service
					}
					return body.toByteArray();
				}
				body.write(readExactly(length));
				readLine();
			}
		}
		String length = headers.get("content-length");
		if (length != null) {
			return readExactly(Integer.parseInt(length));
		}
		return this.in.readAllBytes();
	}

	private byte[] readExactly(int length) throws IOException {
		byte[] bytes = this.in.readNBytes(length);
		if (bytes.length < length) {
			throw new EOFException("The connection closed after " + bytes.length + " of " + length + " bytes");
		}
		return bytes;
	}

	private String readLine() throws IOException {
		return readLine(this.in);
	}

	/**
	 * Read a line of an HTTP head or chunked body, without its CRLF.
	 * @param in the stream to read
	 * @return the line, or {@code null} at the end of the stream
	 * @throws IOException if the stream cannot be read
	 */
	static String readLine(InputStream in) throws IOException {
		ByteArrayOutputStream line = new ByteArrayOutputStream();
		int next = in.read();
		if (next == -1) {
			return null;
		}
		while (next != -1 && next != '\n') {
			if (next != '\r') {
				line.write(next);
			}
			next = in.read();
		}
		return line.toString(StandardCharsets.ISO_8859_1);
	}

	@Override
	public void close() throws IOException {
		this.socket.close();
	}

	/**
	 * A response as it came over the wire.
	 *
	 * @param status the status code
	 * @param headers the headers, names in lower case
	 * @param body the body
	 */
	public record Response(int status, Map<String, String> headers, String body) {

		/**
		 * The value of a header.
		 * @param name the name of the header, in any case
		 * @return the value, or {@code null} if the response does not carry it
		 */
		public String header(String name) {
			return this.headers.get(name.toLowerCase(Locale.ROOT));
		}

		/**
		 * Whether the server announced that it closes the connection after this response.
		 * @return {@code true} if the response carries {@code Connection: close}
		 */
		public boolean closesConnection() {
			String connection = header("connection");
			return connection != null && connection.toLowerCase(Locale.ROOT).contains("close");
		}

	}

}

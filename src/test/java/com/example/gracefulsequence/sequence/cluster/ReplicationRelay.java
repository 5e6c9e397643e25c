package com.example.gracefulsequence.sequence.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay on loopback between a replica and its primary, for tests that make a
 * replica fall behind: once it is cut, it drops what either side sends and keeps both
 * connections open, as a network that loses its packets does, so that the primary still
 * counts the replica (until {@code min-replicas-max-lag}) while the replica gets nothing.
 * A paused replica would not do: its kernel still takes what the primary sends, and the
 * replica reads it when it continues. Closing the relay closes every connection.
 *
 * @author graceful-sequence contributors
 */
final class ReplicationRelay implements AutoCloseable {

	private final ServerSocket server;

	private final int target;

	private final List<Socket> sockets = new CopyOnWriteArrayList<>();

	private volatile boolean cut;

	private ReplicationRelay(ServerSocket server, int target) {
		this.server = server;
		this.target = target;
	}

	/**
	 * Listen on a free loopback port and relay every connection to a server.
	 * @param target the server's port on {@link RedisServer#HOST}
	 * @return the relay
	 * @throws IOException if it cannot listen
	 */
	static ReplicationRelay to(int target) throws IOException {
		ServerSocket server = new ServerSocket(0, 50, InetAddress.getByName(RedisServer.HOST));
		ReplicationRelay relay = new ReplicationRelay(server, target);
		Thread acceptor = new Thread(relay::accept, "relay-" + server.getLocalPort());
		acceptor.setDaemon(true);
		acceptor.start();
		return relay;
	}

	/**
	 * The port it listens on, on {@link RedisServer#HOST}.
	 * @return the port
	 */
	int port() {
		return this.server.getLocalPort();
	}

	/**
	 * From now on, drop what either side sends.
	 */
	void cut() {
		this.cut = true;
	}

	private void accept() {
		while (!this.server.isClosed()) {
			try {
				Socket client = this.server.accept();
				this.sockets.add(client);
				Socket upstream = new Socket(RedisServer.HOST, this.target);
				this.sockets.add(upstream);
				pump(client, upstream);
				pump(upstream, client);
			}
			catch (IOException ex) {
				// Closed, or the server refused: the replica tries again on its own
			}
		}
	}

	private void pump(Socket from, Socket to) {
		Thread pump = new Thread(() -> {
			byte[] buffer = new byte[16384];
			try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
				for (int read = in.read(buffer); read >= 0; read = in.read(buffer)) {
					if (!this.cut) {
						out.write(buffer, 0, read);
						out.flush();
					}
				}
			}
			catch (IOException ex) {
				// One side closed: so does the other
			}
			closeQuietly(from);
			closeQuietly(to);
		}, "relay-" + port() + "-" + from.getPort());
		pump.setDaemon(true);
		pump.start();
	}

	private static void closeQuietly(Socket socket) {
		try {
			socket.close();
		}
		catch (IOException ex) {
			// Closing: nothing left to release
		}
	}

	/**
	 * Stop listening and close every connection.
	 */
	@Override
	public void close() {
		try {
			this.server.close();
		}
		catch (IOException ex) {
			// Closing: nothing left to release
		}
		this.sockets.forEach(ReplicationRelay::closeQuietly);
	}

}

package com.example.gracefulsequence;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/**
 * Finds a free TCP port on loopback for a service under test.
 *
 * @author graceful-sequence contributors
 */
public final class FreePort {

	private FreePort() {
	}

	/**
	 * Find a free port.
	 * @return a port that was free a moment ago
	 */
	public static int find() {
		try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			socket.setReuseAddress(true);
			return socket.getLocalPort();
		}
		catch (IOException ex) {
			throw new UncheckedIOException("No free port on loopback", ex);
		}
	}

}

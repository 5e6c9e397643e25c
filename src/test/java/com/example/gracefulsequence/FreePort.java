package com.example.gracefulsequence;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Finds a free TCP port on loopback for a service under test, never one it handed out
 * before in this JVM: a port found for a process that has not bound it yet (a service
 * still starting) is free to the kernel, which may offer it again for the next process,
 * such as a proxy started in front of it.
 *
 * @author graceful-sequence contributors
 */
public final class FreePort {

	private static final Set<Integer> handedOut = ConcurrentHashMap.newKeySet();

	private FreePort() {
	}

	/**
	 * Find a free port.
	 * @return a port that was free a moment ago
	 */
	public static int find() {
		while (true) {
			int port = bindAny();
			if (handedOut.add(port)) {
				return port;
			}
		}
	}

	private static int bindAny() {
		try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			socket.setReuseAddress(true);
			return socket.getLocalPort();
		}
		catch (IOException ex) {
			throw new UncheckedIOException("No free port on loopback", ex);
		}
	}

}

package com.example.gracefulsequence.deploy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/**
 * A program a test runs in front of or beside the service (a proxy, Prometheus), in the
 * foreground, on a port of its own, with its output in a file; ended by its handle.
 *
 * @author graceful-sequence contributors
 */
abstract class ExternalProcess implements AutoCloseable {

	private final Process process;

	private final int port;

	private final Path log;

	ExternalProcess(Process process, int port, Path log) {
		this.process = process;
		this.port = port;
		this.log = log;
	}

	/**
	 * Wait until the program accepts connections on its port; end it if it does not.
	 * @param name the program's name, for messages
	 * @param timeout how long to wait
	 */
	final void awaitAccepting(String name, Duration timeout) {
		try {
			await(name + " listening on " + this.port).atMost(timeout)
				.pollInterval(Duration.ofMillis(50))
				.failFast(name + " exited", () -> !this.process.isAlive())
				.until(this::accepts);
		}
		catch (RuntimeException | Error ex) {
			close();
			throw ex;
		}
	}

	private boolean accepts() {
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), this.port), 1000);
			return true;
		}
		catch (IOException ex) {
			return false;
		}
	}

	/**
	 * The port the program listens on.
	 * @return the port
	 */
	final int port() {
		return this.port;
	}

	/**
	 * What the program wrote so far.
	 * @return the output
	 */
	final String output() {
		try {
			return Files.readString(this.log);
		}
		catch (IOException ex) {
			return "(no output: " + ex.getMessage() + ")";
		}
	}

	/**
	 * SIGTERM, the stop of HAProxy, nginx and Prometheus alike; then, if the program has
	 * not ended within ten seconds, SIGKILL to it and to what it started.
	 */
	@Override
	public final void close() {
		this.process.destroy();
		try {
			if (!this.process.waitFor(10, TimeUnit.SECONDS)) {
				this.process.descendants().forEach(ProcessHandle::destroyForcibly);
				this.process.destroyForcibly();
				this.process.waitFor(10, TimeUnit.SECONDS);
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			this.process.destroyForcibly();
		}
	}

}

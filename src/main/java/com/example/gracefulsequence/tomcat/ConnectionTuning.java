package com.example.gracefulsequence.tomcat;

import org.apache.catalina.connector.Connector;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.core.Ordered;
import org.springframework.core.env.Environment;

/**
 * Tunes Tomcat's connections for a service whose streams keep theirs for as long as they
 * last. Three things: the size of what Tomcat keeps per connection (the buffers between
 * the socket and the application, the kernel's send buffer, which would otherwise grow to
 * megabytes for a client that stops reading, and the response's own buffers, sized by
 * {@link CompactHttp11NioProtocol}); how many connections there may be (the cap on
 * subscribers plus room for other requests, unless {@code server.tomcat.max-connections}
 * is set, which is honoured if it leaves room for the subscribers and for turning others
 * away, and refused otherwise); and a way for a stream to close its connection at once
 * ({@link CloseNowValve}).
 *
 * @author graceful-sequence contributors
 */
public final class ConnectionTuning implements WebServerFactoryCustomizer<TomcatServletWebServerFactory>, Ordered {

	/**
	 * Connections that Tomcat accepts on top of the subscribers by default, for every
	 * other request.
	 */
	static final int OTHER_CONNECTIONS = 1024;

	/**
	 * The fewest connections a configured maximum must leave on top of the subscribers:
	 * while every subscriber's place is taken, new stream requests must still connect to
	 * be told {@code busy} (each such connection closes as soon as it is answered), and
	 * probes and the other endpoints must still be served.
	 */
	static final int MIN_OTHER_CONNECTIONS = 64;

	private static final String MAX_CONNECTIONS = "server.tomcat.max-connections";

	private final @Nullable Integer maxConnections;

	private final String streamPath;

	/**
	 * Tune the connections for the given cap on subscribers.
	 * @param maxSubscribers the cap on open streams and waiting long-polls
	 * @param environment where {@code server.tomcat.max-connections} may be set
	 * @param streamPath the path of the streams that may close their connection at once
	 */
	public ConnectionTuning(int maxSubscribers, Environment environment, String streamPath) {
		this(maxSubscribers, Binder.get(environment).bind(MAX_CONNECTIONS, Integer.class).orElse(null), streamPath);
	}

	/**
	 * Tune the connections for the given cap on subscribers.
	 * @param maxSubscribers the cap on open streams and waiting long-polls
	 * @param configured {@code server.tomcat.max-connections}, if set
	 * @param streamPath the path of the streams that may close their connection at once
	 */
	ConnectionTuning(int maxSubscribers, @Nullable Integer configured, String streamPath) {
		this.streamPath = streamPath;
		int needed = maxSubscribers + MIN_OTHER_CONNECTIONS;
		if (configured != null && configured >= 0 && configured < needed) {
			throw new InvalidConfigurationPropertyValueException(MAX_CONNECTIONS, configured,
					"It must leave room for the " + maxSubscribers
							+ " open streams and waiting long-polls of sequence.max-subscribers and "
							+ MIN_OTHER_CONNECTIONS + " more, to turn others away and serve everything else; set it to "
							+ needed + " or more (-1 for no limit), leave it unset ("
							+ (maxSubscribers + OTHER_CONNECTIONS) + "), or lower sequence.max-subscribers.");
		}
		// Unset: the cap and room for the rest; set: Spring Boot has applied it
		this.maxConnections = (configured != null) ? null : maxSubscribers + OTHER_CONNECTIONS;
	}

	/**
	 * The socket's send buffer ({@code SO_SNDBUF}); Linux doubles it for its own
	 * bookkeeping and no longer grows it.
	 */
	static final int SEND_BUFFER = 16 * 1024;

	/**
	 * Tomcat's buffers between the socket and the application, each way: a request of
	 * this API and an event or a value are a few hundred bytes.
	 */
	static final int APPLICATION_BUFFER = 1024;

	/**
	 * The largest trailer of a chunked request body; Tomcat allocates it for every
	 * connection up front (the table of buffers in docs/streams.md has its default), and
	 * no request of this API has a body.
	 */
	static final int MAX_TRAILER = 256;

	@Override
	public void customize(TomcatServletWebServerFactory factory) {
		factory.setProtocol(CompactHttp11NioProtocol.class.getName());
		factory.addConnectorCustomizers(this::customize);
		factory.addContextValves(new CloseNowValve(this.streamPath));
	}

	/**
	 * After Spring Boot's own Tomcat customizer, whose connector customizer sets the
	 * maximum number of connections from {@code server.tomcat.max-connections}.
	 */
	@Override
	public int getOrder() {
		return Ordered.LOWEST_PRECEDENCE;
	}

	private void customize(Connector connector) {
		connector.setProperty("socket.txBufSize", Integer.toString(SEND_BUFFER));
		connector.setProperty("socket.appReadBufSize", Integer.toString(APPLICATION_BUFFER));
		connector.setProperty("socket.appWriteBufSize", Integer.toString(APPLICATION_BUFFER));
		connector.setProperty("maxTrailerSize", Integer.toString(MAX_TRAILER));
		if (this.maxConnections != null) {
			connector.setProperty("maxConnections", Integer.toString(this.maxConnections));
		}
	}

}

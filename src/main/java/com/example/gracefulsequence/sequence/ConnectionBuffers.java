package com.example.gracefulsequence.sequence;

import org.apache.catalina.connector.Connector;

import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.core.Ordered;
import org.springframework.stereotype.Component;

/**
 * Sizes what Tomcat keeps per connection for this service's small requests and events,
 * since an open stream keeps its connection for as long as it lasts: the buffers between
 * the socket and the application, and the kernel's send buffer, which would otherwise
 * grow to megabytes for a client that stops reading. Also bounds the connections to what
 * the {@link SubscriberCapacity} holds, plus room for other requests, and lets a stream
 * close its connection at once ({@link CloseNowValve}).
 *
 * @author graceful-sequence contributors
 */
@Component
final class ConnectionBuffers implements WebServerFactoryCustomizer<TomcatServletWebServerFactory>, Ordered {

	private final SubscriberCapacity capacity;

	ConnectionBuffers(SubscriberCapacity capacity) {
		this.capacity = capacity;
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
	static final int APPLICATION_BUFFER = 2 * 1024;

	@Override
	public void customize(TomcatServletWebServerFactory factory) {
		factory.addConnectorCustomizers(this::customize);
		factory.addContextValves(new CloseNowValve());
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
		connector.setProperty("maxConnections", Integer.toString(this.capacity.maxConnections()));
	}

}

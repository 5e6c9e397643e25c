package com.example.gracefulsequence.sequence;

import com.example.gracefulsequence.TemporaryStateFile;
import org.apache.catalina.connector.Connector;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.tomcat.TomcatWebServer;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.test.annotation.DirtiesContext;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests that the running Tomcat keeps small per-connection buffers, a bounded kernel send
 * buffer and no more connections than the subscriber cap allows.
 *
 * @author graceful-sequence contributors
 */
@DirtiesContext
@TemporaryStateFile
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT, properties = "sequence.max-subscribers=100")
class ConnectionBuffersTests {

	@Autowired
	private WebServerApplicationContext context;

	@Test
	void theConnectorKeepsSmallBuffersAndAsManyConnectionsAsTheCapNeeds() {
		Connector connector = ((TomcatWebServer) this.context.getWebServer()).getTomcat().getConnector();
		assertThat(connector.getProperty("socket.txBufSize"))
			.hasToString(String.valueOf(ConnectionBuffers.SEND_BUFFER));
		assertThat(connector.getProperty("socket.appReadBufSize"))
			.hasToString(String.valueOf(ConnectionBuffers.APPLICATION_BUFFER));
		assertThat(connector.getProperty("socket.appWriteBufSize"))
			.hasToString(String.valueOf(ConnectionBuffers.APPLICATION_BUFFER));
		assertThat(connector.getProperty("maxConnections"))
			.hasToString(String.valueOf(100 + SubscriberCapacity.OTHER_CONNECTIONS));
		assertThat(connector.getProperty("maxHttpResponseHeaderSize")).hasToString(String.valueOf(4096));
	}

}

package com.example.gracefulsequence.tomcat;

import com.example.gracefulsequence.TemporaryStateFile;
import org.apache.catalina.connector.Connector;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.tomcat.TomcatWebServer;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.test.annotation.DirtiesContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests that the running Tomcat keeps small per-connection buffers, a bounded kernel send
 * buffer and no more connections than the subscriber cap allows.
 *
 * @author graceful-sequence contributors
 */
@DirtiesContext
@TemporaryStateFile
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT, properties = "sequence.max-subscribers=100")
class ConnectionTuningTests {

	@Autowired
	private WebServerApplicationContext context;

	@Test
	void theConnectorKeepsSmallBuffersAndAsManyConnectionsAsTheCapNeeds() {
		Connector connector = ((TomcatWebServer) this.context.getWebServer()).getTomcat().getConnector();
		assertThat(connector.getProperty("socket.txBufSize")).hasToString(String.valueOf(ConnectionTuning.SEND_BUFFER));
		assertThat(connector.getProperty("socket.appReadBufSize"))
			.hasToString(String.valueOf(ConnectionTuning.APPLICATION_BUFFER));
		assertThat(connector.getProperty("socket.appWriteBufSize"))
			.hasToString(String.valueOf(ConnectionTuning.APPLICATION_BUFFER));
		assertThat(connector.getProperty("maxConnections"))
			.hasToString(String.valueOf(100 + ConnectionTuning.OTHER_CONNECTIONS));
		assertThat(connector.getProperty("maxHttpResponseHeaderSize")).hasToString(String.valueOf(2048));
		assertThat(connector.getProperty("maxTrailerSize")).hasToString(String.valueOf(ConnectionTuning.MAX_TRAILER));
		assertThat(connector.getProtocolHandler()).isInstanceOf(CompactHttp11NioProtocol.class);
		assertThat(connector.getProtocolHandler().getDesiredBufferSize())
			.isEqualTo(CompactHttp11NioProtocol.RESPONSE_BUFFER);
	}

	@Test
	void aConfiguredMaximumOfConnectionsThatLeavesRoomForTurningAwayIsHonoured() {
		Connector connector = customized(
				new ConnectionTuning(100, 100 + ConnectionTuning.MIN_OTHER_CONNECTIONS, "/sequence/stream"));
		// Spring Boot's customizer sets the configured value; this one leaves it
		assertThat(connector.getProperty("maxConnections")).hasToString(String.valueOf(8192));
		assertThat(customized(new ConnectionTuning(100, -1, "/sequence/stream")).getProperty("maxConnections"))
			.hasToString(String.valueOf(8192));
		assertThat(
				customized(new ConnectionTuning(100, (Integer) null, "/sequence/stream")).getProperty("maxConnections"))
			.hasToString(String.valueOf(100 + ConnectionTuning.OTHER_CONNECTIONS));
	}

	@Test
	void aConfiguredMaximumOfConnectionsWithoutRoomForTurningAwayIsRefusedNamingWhatFits() {
		assertThatExceptionOfType(InvalidConfigurationPropertyValueException.class)
			.isThrownBy(() -> new ConnectionTuning(100, 100 + ConnectionTuning.MIN_OTHER_CONNECTIONS - 1,
					"/sequence/stream"))
			.satisfies((ex) -> assertThat(ex.getName()).isEqualTo("server.tomcat.max-connections"))
			.withMessageContaining("set it to " + (100 + ConnectionTuning.MIN_OTHER_CONNECTIONS) + " or more")
			.withMessageContaining("sequence.max-subscribers");
	}

	private static Connector customized(ConnectionTuning buffers) {
		TomcatServletWebServerFactory factory = new TomcatServletWebServerFactory();
		buffers.customize(factory);
		Connector connector = new Connector(TomcatServletWebServerFactory.DEFAULT_PROTOCOL);
		factory.getConnectorCustomizers().forEach((customizer) -> customizer.customize(connector));
		return connector;
	}

}

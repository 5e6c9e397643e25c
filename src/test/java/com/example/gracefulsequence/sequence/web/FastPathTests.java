package com.example.gracefulsequence.sequence.web;

import java.io.IOException;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

import com.example.gracefulsequence.ServiceClient;
import com.example.gracefulsequence.TemporaryStateFile;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.web.filter.OncePerRequestFilter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code sequence.fast-path.enabled}: with the hot path on (the default) a servlet filter
 * of the application's own never sees the plain {@code GET /sequence/last}; with it off
 * the filter sees every request, that one included, and the answer is the same.
 *
 * @author graceful-sequence contributors
 */
class FastPathTests {

	private static ServiceClient awaitValue(int port) {
		ServiceClient client = new ServiceClient(port);
		await().atMost(Duration.ofSeconds(10)).until(() -> client.get("/sequence/last").statusCode() == 200);
		return client;
	}

	@Nested
	@DirtiesContext
	@TemporaryStateFile
	@Import(UserFilterConfiguration.class)
	@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
			properties = { "sequence.period=1h", TemporaryStateFile.RESTORED + "=42" })
	class WhenOn {

		@Test
		void aUserFilterDoesNotSeeThePlainRequest(@LocalServerPort int port, @Autowired UserFilter filter) {
			ServiceClient client = awaitValue(port);
			filter.seen.clear();
			assertThat(client.get("/sequence/last").body()).contains("\"value\":42");
			assertThat(client.get("/sequence/last?x=1").statusCode()).isEqualTo(200);
			assertThat(filter.seen).as("only the request with a query goes through the filters")
				.containsExactly("GET /sequence/last?x=1");
		}

	}

	@Nested
	@DirtiesContext
	@TemporaryStateFile
	@Import(UserFilterConfiguration.class)
	@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT, properties = { "sequence.period=1h",
			TemporaryStateFile.RESTORED + "=42", "sequence.fast-path.enabled=false" })
	class WhenOff {

		@Test
		void aUserFilterSeesThePlainRequest(@LocalServerPort int port, @Autowired UserFilter filter) {
			ServiceClient client = awaitValue(port);
			filter.seen.clear();
			assertThat(client.get("/sequence/last").body()).contains("\"value\":42");
			assertThat(filter.seen).containsExactly("GET /sequence/last");
		}

	}

	/**
	 * A servlet filter of the application's own, such as security or tracing, that notes
	 * every request it sees.
	 */
	static final class UserFilter extends OncePerRequestFilter {

		final Queue<String> seen = new ConcurrentLinkedQueue<>();

		@Override
		protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
				throws ServletException, IOException {
			String query = request.getQueryString();
			this.seen.add(request.getMethod() + " " + request.getRequestURI() + ((query != null) ? "?" + query : ""));
			chain.doFilter(request, response);
		}

	}

	@TestConfiguration(proxyBeanMethods = false)
	static class UserFilterConfiguration {

		@Bean
		UserFilter userFilter() {
			return new UserFilter();
		}

		@Bean
		FilterRegistrationBean<UserFilter> userFilterRegistration(UserFilter filter) {
			return new FilterRegistrationBean<>(filter);
		}

	}

}

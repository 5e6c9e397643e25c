package com.example.gracefulsequence.problem;

import java.net.URI;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.converter.json.ProblemDetailJacksonMixin;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link ProblemJsonModule}, with a mapper configured as Spring Boot configures
 * the application's.
 *
 * @author graceful-sequence contributors
 */
class ProblemJsonModuleTests {

	private final JsonMapper jsonMapper = JsonMapper.builder()
		.addModule(new ProblemJsonModule())
		.addMixIn(ProblemDetail.class, ProblemDetailJacksonMixin.class)
		.build();

	@Test
	void aProblemListsItsMembersInTheOrderOfTheRfcAndItsExtensionsLast() {
		ProblemDetail problem = Problems.of(HttpStatus.BAD_REQUEST, "Parameter 'count' must be a whole number");
		problem.setInstance(URI.create("/sequence/stream"));
		problem.setProperty("parameter", "count");
		assertThat(this.jsonMapper.writeValueAsString(problem)).isEqualTo("""
				{"type":"about:blank","title":"Bad Request","status":400,\
				"detail":"Parameter 'count' must be a whole number","instance":"/sequence/stream",\
				"parameter":"count"}""");
	}

	@Test
	void membersThatAreNotSetAreLeftOut() {
		assertThat(this.jsonMapper.writeValueAsString(Problems.of(HttpStatus.SERVICE_UNAVAILABLE, "Try again later")))
			.isEqualTo("""
					{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"Try again later"}""");
	}

	@Test
	void otherTypesKeepTheirOrder() {
		record Value(int value, long index) {
		}
		assertThat(this.jsonMapper.writeValueAsString(new Value(42, 17))).isEqualTo("{\"value\":42,\"index\":17}");
	}

}

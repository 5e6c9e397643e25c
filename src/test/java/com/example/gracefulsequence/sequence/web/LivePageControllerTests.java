package com.example.gracefulsequence.sequence.web;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.webmvc.test.autoconfigure.WebMvcTest;
import org.springframework.core.io.ClassPathResource;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.web.servlet.assertj.MockMvcTester;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Slice tests for {@link LivePageController}.
 *
 * @author graceful-sequence contributors
 */
@WebMvcTest(LivePageController.class)
class LivePageControllerTests {

	@Autowired
	private MockMvcTester mvc;

	@Test
	void theRootAnswersTheLivePageAsUtf8Html() throws IOException {
		String page = new ClassPathResource("page/index.html").getContentAsString(StandardCharsets.UTF_8);
		assertThat(this.mvc.get().uri("/").accept(MediaType.TEXT_HTML, MediaType.ALL)).hasStatusOk()
			.hasContentType("text/html;charset=UTF-8")
			.hasHeader("Cache-Control", "no-cache")
			.hasBodyTextEqualTo(page);
		assertThat(page).contains("new EventSource(").contains("window.sequencePage");
	}

	@Test
	void theRootAnswersARequestForJsonWithAProblem() {
		assertThat(this.mvc.get().uri("/").accept(MediaType.APPLICATION_JSON)).hasStatus(HttpStatus.NOT_ACCEPTABLE)
			.hasContentType(MediaType.APPLICATION_PROBLEM_JSON);
	}

}

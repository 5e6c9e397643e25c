package com.example.gracefulsequence.sequence.web;

import java.nio.charset.StandardCharsets;

import org.springframework.core.io.ClassPathResource;
import org.springframework.core.io.Resource;
import org.springframework.http.CacheControl;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.GetMapping;

/**
 * Serves the live page at {@code /}: one static HTML file that follows
 * {@code /sequence/stream} in the browser. Only this path is served, so that static
 * resource mappings stay off and every other path is a problem.
 *
 * @author graceful-sequence contributors
 */
@Controller
final class LivePageController {

	private static final MediaType HTML = new MediaType(MediaType.TEXT_HTML, StandardCharsets.UTF_8);

	private final Resource page = new ClassPathResource("page/index.html");

	@GetMapping(path = "/", produces = MediaType.TEXT_HTML_VALUE)
	ResponseEntity<Resource> page() {
		return ResponseEntity.ok().contentType(HTML).cacheControl(CacheControl.noCache()).body(this.page);
	}

}

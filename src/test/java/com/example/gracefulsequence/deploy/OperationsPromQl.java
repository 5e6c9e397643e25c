package com.example.gracefulsequence.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The PromQL examples of a Markdown page: each line of a {@code promql} code block that
 * is neither blank nor a comment.
 *
 * @author graceful-sequence contributors
 */
final class OperationsPromQl {

	private OperationsPromQl() {
	}

	static List<String> examples(Path page) throws IOException {
		List<String> examples = new ArrayList<>();
		boolean inBlock = false;
		for (String line : Files.readAllLines(page)) {
			String stripped = line.strip();
			if (stripped.startsWith("```")) {
				inBlock = !inBlock && stripped.equals("```promql");
			}
			else if (inBlock && !stripped.isEmpty() && !stripped.startsWith("#")) {
				examples.add(stripped);
			}
		}
		return examples;
	}

}

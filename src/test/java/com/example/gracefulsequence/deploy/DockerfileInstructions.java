package com.example.gracefulsequence.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import tools.jackson.databind.json.JsonMapper;

/**
 * The instructions of a Dockerfile, read the way Docker reads them: comments and parser
 * directives dropped, lines continued with a backslash joined, keywords in upper case.
 * Enough for checks: no variable substitution and no heredocs.
 *
 * @author graceful-sequence contributors
 */
final class DockerfileInstructions {

	private static final JsonMapper json = JsonMapper.builder().build();

	private final List<Instruction> instructions;

	private DockerfileInstructions(List<Instruction> instructions) {
		this.instructions = List.copyOf(instructions);
	}

	static DockerfileInstructions read(Path path) throws IOException {
		List<Instruction> instructions = new ArrayList<>();
		StringBuilder current = null;
		for (String line : Files.readAllLines(path)) {
			String trimmed = line.strip();
			if (trimmed.startsWith("#") || (trimmed.isEmpty())) {
				continue;
			}
			if (current == null) {
				current = new StringBuilder();
			}
			if (trimmed.endsWith("\\")) {
				current.append(trimmed, 0, trimmed.length() - 1).append(' ');
				continue;
			}
			current.append(trimmed);
			instructions.add(Instruction.parse(current.toString()));
			current = null;
		}
		if (current != null) {
			instructions.add(Instruction.parse(current.toString()));
		}
		return new DockerfileInstructions(instructions);
	}

	List<Instruction> all() {
		return this.instructions;
	}

	/**
	 * The build stages, each a list that starts with its {@code FROM}.
	 * @return the stages in order
	 */
	List<List<Instruction>> stages() {
		List<List<Instruction>> stages = new ArrayList<>();
		for (Instruction instruction : this.instructions) {
			if (instruction.keyword().equals("FROM")) {
				stages.add(new ArrayList<>());
			}
			if (!stages.isEmpty()) {
				stages.get(stages.size() - 1).add(instruction);
			}
		}
		return stages;
	}

	List<Instruction> finalStage() {
		List<List<Instruction>> stages = stages();
		return stages.get(stages.size() - 1);
	}

	/**
	 * One instruction.
	 *
	 * @param keyword the keyword in upper case, e.g. {@code RUN}
	 * @param arguments everything after the keyword
	 * @author graceful-sequence contributors
	 */
	record Instruction(String keyword, String arguments) {

		static Instruction parse(String text) {
			String[] parts = text.strip().split("\\s+", 2);
			return new Instruction(parts[0].toUpperCase(Locale.ROOT), (parts.length > 1) ? parts[1].strip() : "");
		}

		List<String> words() {
			return Arrays.asList(this.arguments.split("\\s+"));
		}

		/**
		 * The words after the instruction's own flags, such as {@code --mount=...} of a
		 * {@code RUN} or {@code --from=...} of a {@code COPY}.
		 * @return the words without leading flags
		 */
		List<String> withoutFlags() {
			List<String> words = words();
			int first = 0;
			while (first < words.size() && words.get(first).startsWith("--")) {
				first++;
			}
			return words.subList(first, words.size());
		}

		Optional<String> flag(String name) {
			String prefix = "--" + name + "=";
			return words().stream()
				.takeWhile((word) -> word.startsWith("--"))
				.filter((word) -> word.startsWith(prefix))
				.map((word) -> word.substring(prefix.length()))
				.findFirst();
		}

		boolean isExecForm() {
			return this.arguments.startsWith("[");
		}

		/**
		 * The JSON array of an exec-form instruction.
		 * @return the elements of the array
		 */
		List<String> execForm() {
			return List.of(json.readValue(this.arguments, String[].class));
		}

		/**
		 * The variables an {@code ENV} instruction sets, in either of its forms.
		 * @return the variables by name
		 */
		Map<String, String> variables() {
			Map<String, String> variables = new LinkedHashMap<>();
			List<String> words = words();
			if (!words.get(0).contains("=")) {
				variables.put(words.get(0), Quoting.unquote(this.arguments.substring(words.get(0).length()).strip()));
				return variables;
			}
			for (String word : words) {
				int equals = word.indexOf('=');
				variables.put(word.substring(0, equals), Quoting.unquote(word.substring(equals + 1)));
			}
			return variables;
		}

	}

}

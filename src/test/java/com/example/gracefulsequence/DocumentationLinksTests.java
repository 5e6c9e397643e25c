package com.example.gracefulsequence;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests that every relative link of the README and of the documents under {@code docs/}
 * (and of {@code bench/README.md} and every {@code README.md} under {@code deploy/})
 * leads somewhere: to a file or folder of the repository and, with a {@code #fragment},
 * to a heading of the Markdown file it names, as GitHub makes anchors of headings. A
 * renamed file or heading then fails the build instead of leaving a dead link.
 *
 * @author graceful-sequence contributors
 */
class DocumentationLinksTests {

	// A fence opens a code block, which holds neither links nor headings
	private static final Pattern FENCE = Pattern.compile("^\\s*(`{3,}|~{3,})");

	private static final Pattern ATX_HEADING = Pattern
		.compile("^ {0,3}(#{1,6})(?:[ \\t]+(.*?))?(?:[ \\t]+#+)?[ \\t]*$");

	private static final Pattern SETEXT_UNDERLINE = Pattern.compile("^ {0,3}(=+|-+)[ \\t]*$");

	private static final Pattern HTML_ANCHOR = Pattern.compile("<a\\s[^>]*\\b(?:name|id)=\"([^\"]+)\"");

	private static final Pattern CODE_SPAN = Pattern.compile("(`+)(.+?)\\1");

	private static final Pattern REFERENCE_DEFINITION = Pattern.compile("^ {0,3}\\[[^\\]]+\\]:[ \\t]*(\\S+)");

	private static final Pattern SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*:");

	private static final Pattern LINE_ANCHOR = Pattern.compile("L\\d+(-L\\d+)?");

	static Stream<Path> documents() throws IOException {
		List<Path> documents = new ArrayList<>(List.of(Path.of("README.md"), Path.of("bench", "README.md")));
		documents.addAll(markdown(Path.of("docs")));
		documents.addAll(markdown(Path.of("deploy")).stream()
			.filter((document) -> document.getFileName().toString().equals("README.md"))
			.toList());
		return documents.stream().sorted();
	}

	@ParameterizedTest
	@MethodSource("documents")
	void everyRelativeLinkLeadsToAFileOrHeadingThatExists(Path document) {
		assertThat(new LinkChecker(Path.of("")).brokenLinks(document)).isEmpty();
	}

	@Test
	void theDocumentsIncludeTheReadmeTheDocsAndTheDecisionRecords() throws IOException {
		assertThat(documents()).contains(Path.of("README.md"), Path.of("docs", "shutdown.md"),
				Path.of("docs", "decisions", "README.md"), Path.of("deploy", "kubernetes", "cluster", "README.md"));
	}

	@Test
	void anchorsAreMadeAsGitHubMakesThem() {
		List<String> lines = List.of("# Hostile clients (2026-12-02)",
				"## Fan-out: `/sequence/stream` of graceful-sequence", "## Notes", "### Notes", "#### Notes",
				"## `sequence_values_total` and _emphasis_ and **strong**", "## A [linked](other.md) word",
				"Cluster mode: a setext heading", "---", "```", "# Not a heading in code", "```",
				"## Spaces  and\ttabs");
		assertThat(LinkChecker.anchors(lines)).containsExactly("hostile-clients-2026-12-02",
				"fan-out-sequencestream-of-graceful-sequence", "notes", "notes-1", "notes-2",
				"sequence_values_total-and-emphasis-and-strong", "a-linked-word", "cluster-mode-a-setext-heading",
				"spaces--andtabs");
	}

	@Test
	void aMissingFileOrHeadingIsReportedAndEverythingElseIsNot(@TempDir Path root) throws IOException {
		Files.createDirectories(root.resolve("docs"));
		Files.writeString(root.resolve("docs/there.md"), "# A heading\n\nText\n");
		Files.writeString(root.resolve("README.md"), """
				# Title

				[fine](docs/there.md), [fine too](docs/there.md#a-heading) and [here](#title), [a folder](docs),
				[external](https://example.com/missing.md), [mail](mailto:someone@example.com), `[code](nope.md)`,
				[gone](docs/missing.md) and ![image](docs/gone.png), [no such heading](docs/there.md#nowhere),
				[not here](#nowhere-either), [outside](../elsewhere.md), [with a title](docs/there.md "A title").

				[reference]: docs/not-there.md

				```
				[in a fence](nope.md)
				```
				""");
		List<String> broken = new LinkChecker(root).brokenLinks(Path.of("README.md"))
			.stream()
			.map(BrokenLink::target)
			.toList();
		assertThat(broken).containsExactly("docs/missing.md", "docs/gone.png", "docs/there.md#nowhere",
				"#nowhere-either", "../elsewhere.md", "docs/not-there.md");
	}

	private static List<Path> markdown(Path folder) throws IOException {
		try (Stream<Path> files = Files.walk(folder)) {
			return files.filter((file) -> file.getFileName().toString().endsWith(".md")).toList();
		}
	}

	/**
	 * A link that leads nowhere.
	 *
	 * @param document the document that holds it
	 * @param line its line, from 1
	 * @param target where it points
	 * @param reason why it leads nowhere
	 */
	record BrokenLink(Path document, int line, String target, String reason) {

		@Override
		public String toString() {
			return this.document + ":" + this.line + ": " + this.target + " (" + this.reason + ")";
		}

	}

	/**
	 * Finds the relative links of Markdown documents under a root and checks where they
	 * lead; it caches the anchors of each document it reads.
	 */
	static final class LinkChecker {

		private final Path root;

		private final Map<Path, Set<String>> anchors = new HashMap<>();

		LinkChecker(Path root) {
			this.root = root.toAbsolutePath().normalize();
		}

		List<BrokenLink> brokenLinks(Path document) {
			Path file = this.root.resolve(document).normalize();
			List<BrokenLink> broken = new ArrayList<>();
			List<String> lines = read(file);
			@Nullable String fence = null;
			for (int i = 0; i < lines.size(); i++) {
				String line = lines.get(i);
				fence = fence(line, fence);
				if (fence != null || FENCE.matcher(line).find()) {
					continue;
				}
				for (String target : targets(line)) {
					String reason = check(file, target);
					if (reason != null) {
						broken.add(new BrokenLink(document, i + 1, target, reason));
					}
				}
			}
			return broken;
		}

		private @Nullable String check(Path document, String target) {
			if (target.isEmpty() || target.startsWith("//") || SCHEME.matcher(target).find()) {
				return null;
			}
			int hash = target.indexOf('#');
			String path = decode((hash >= 0) ? target.substring(0, hash) : target);
			String fragment = (hash >= 0) ? decode(target.substring(hash + 1)) : "";
			Path resolved = path.isEmpty() ? document
					: (path.startsWith("/") ? this.root.resolve(path.substring(1)) : document.resolveSibling(path))
						.normalize();
			if (!resolved.startsWith(this.root)) {
				return "outside the repository";
			}
			if (!Files.exists(resolved)) {
				return "no such file";
			}
			if (fragment.isEmpty()) {
				return null;
			}
			if (Files.isRegularFile(resolved) && resolved.getFileName().toString().endsWith(".md")) {
				return anchorsOf(resolved).contains(fragment) ? null
						: "no heading #" + fragment + " in " + this.root.relativize(resolved);
			}
			return (Files.isRegularFile(resolved) && LINE_ANCHOR.matcher(fragment).matches()) ? null
					: "a fragment on a file that has no headings";
		}

		private Set<String> anchorsOf(Path document) {
			return this.anchors.computeIfAbsent(document, (file) -> new LinkedHashSet<>(anchors(read(file))));
		}

		/**
		 * The anchors GitHub gives the headings of a Markdown document, in order, and
		 * those of HTML anchors ({@code <a name="...">} or {@code id}).
		 * @param lines the document's lines
		 * @return the anchors
		 */
		static List<String> anchors(List<String> lines) {
			List<String> anchors = new ArrayList<>();
			Map<String, Integer> occurrences = new HashMap<>();
			@Nullable String fence = null;
			String previous = "";
			for (String line : lines) {
				fence = fence(line, fence);
				if (fence != null || FENCE.matcher(line).find()) {
					previous = "";
					continue;
				}
				Matcher atx = ATX_HEADING.matcher(line);
				Matcher html = HTML_ANCHOR.matcher(line);
				while (html.find()) {
					anchors.add(html.group(1));
				}
				if (atx.matches()) {
					anchors.add(unique(slug((atx.group(2) != null) ? atx.group(2) : ""), occurrences));
					previous = "";
					continue;
				}
				if (SETEXT_UNDERLINE.matcher(line).matches() && isParagraph(previous)) {
					anchors.add(unique(slug(previous), occurrences));
					previous = "";
					continue;
				}
				previous = line;
			}
			return anchors;
		}

		// github-slugger: the second "notes" is "notes-1", the third "notes-2"
		private static String unique(String slug, Map<String, Integer> occurrences) {
			String result = slug;
			while (occurrences.containsKey(result)) {
				int count = occurrences.merge(slug, 1, Integer::sum);
				result = slug + "-" + count;
			}
			occurrences.put(result, 0);
			return result;
		}

		// The heading's text as GitHub renders it (markup gone, code kept as it is),
		// lower case, without punctuation other than '-' and '_', each space a '-'
		static String slug(String heading) {
			StringBuilder text = new StringBuilder();
			Matcher code = CODE_SPAN.matcher(heading);
			int at = 0;
			while (code.find()) {
				text.append(plain(heading.substring(at, code.start()))).append(code.group(2).strip());
				at = code.end();
			}
			text.append(plain(heading.substring(at)));
			return text.toString()
				.strip()
				.toLowerCase(Locale.ROOT)
				.replaceAll("[^\\p{L}\\p{M}\\p{N}\\p{Pc} -]", "")
				.replace(' ', '-');
		}

		private static String plain(String markup) {
			return markup.replaceAll("!?\\[([^\\]]*)\\]\\([^)]*\\)", "$1")
				.replaceAll("\\[([^\\]]*)\\]\\[[^\\]]*\\]", "$1")
				.replaceAll("<[^>]+>", "")
				.replace("*", "")
				.replaceAll("(?<![\\p{L}\\p{N}])_+|_+(?![\\p{L}\\p{N}])", "");
		}

		private static boolean isParagraph(String line) {
			String text = line.strip();
			return !text.isEmpty() && !text.startsWith("|") && !text.startsWith(">") && !text.startsWith("- ")
					&& !text.startsWith("* ") && !text.startsWith("<");
		}

		// The fence a line leaves open: the one it opens, none when it closes the open
		// one
		private static @Nullable String fence(String line, @Nullable String open) {
			Matcher matcher = FENCE.matcher(line);
			if (!matcher.find()) {
				return open;
			}
			String marker = matcher.group(1);
			if (open == null) {
				return marker;
			}
			boolean closes = marker.charAt(0) == open.charAt(0) && marker.length() >= open.length()
					&& line.strip().length() == marker.length();
			return closes ? null : open;
		}

		// Inline links and images, ](target), and reference definitions, [name]: target;
		// code spans hold none
		private static List<String> targets(String line) {
			String text = CODE_SPAN.matcher(line).replaceAll("");
			List<String> targets = new ArrayList<>();
			Matcher definition = REFERENCE_DEFINITION.matcher(text);
			if (definition.find()) {
				targets.add(unbracket(definition.group(1)));
			}
			int at = text.indexOf("](");
			while (at >= 0) {
				targets.add(destination(text, at + 2));
				at = text.indexOf("](", at + 2);
			}
			return targets;
		}

		private static String destination(String text, int start) {
			int i = start;
			while (i < text.length() && Character.isWhitespace(text.charAt(i))) {
				i++;
			}
			if (i < text.length() && text.charAt(i) == '<') {
				int end = text.indexOf('>', i);
				return text.substring(i + 1, (end >= 0) ? end : text.length());
			}
			int depth = 0;
			int end = i;
			while (end < text.length() && !Character.isWhitespace(text.charAt(end))) {
				char c = text.charAt(end);
				if (c == '(') {
					depth++;
				}
				else if (c == ')' && depth-- == 0) {
					break;
				}
				end++;
			}
			return text.substring(i, end);
		}

		private static String unbracket(String target) {
			return (target.startsWith("<") && target.endsWith(">")) ? target.substring(1, target.length() - 1) : target;
		}

		private static String decode(String text) {
			return URLDecoder.decode(text.replace("+", "%2B"), StandardCharsets.UTF_8);
		}

		private static List<String> read(Path file) {
			try {
				return Files.readAllLines(file);
			}
			catch (IOException ex) {
				throw new UncheckedIOException(ex);
			}
		}

	}

}

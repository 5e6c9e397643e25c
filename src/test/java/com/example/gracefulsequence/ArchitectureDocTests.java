package com.example.gracefulsequence;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.SAXException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests that the section "Dependencies and plugins" of {@code docs/architecture.md} names
 * every dependency and plugin of the build, so that one added to {@code pom.xml} is not
 * left unexplained.
 *
 * @author graceful-sequence contributors
 */
class ArchitectureDocTests {

	private static final Path ARCHITECTURE = Path.of("docs", "architecture.md");

	@Test
	void everyDependencyAndPluginOfThePomHasARow() throws IOException, ParserConfigurationException, SAXException {
		Document pom = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(Path.of("pom.xml").toFile());
		List<String> artifacts = new ArrayList<>();
		artifacts.addAll(artifactIds(pom, "dependency"));
		artifacts.addAll(artifactIds(pom, "plugin"));
		String architecture = Files.readString(ARCHITECTURE);
		int start = architecture.indexOf("\n## Dependencies and plugins\n");
		assertThat(start).as("the section Dependencies and plugins of " + ARCHITECTURE).isPositive();
		int end = architecture.indexOf("\n## ", start + 1);
		String packages = architecture.substring(start, (end > 0) ? end : architecture.length());
		assertThat(artifacts).contains("spring-boot-starter-webmvc", "selenium-java", "maven-checkstyle-plugin")
			.allSatisfy((artifact) -> assertThat(packages).as(artifact).contains("`" + artifact + "`"));
	}

	private static List<String> artifactIds(Document pom, String element) {
		List<String> artifactIds = new ArrayList<>();
		NodeList nodes = pom.getElementsByTagName(element);
		for (int i = 0; i < nodes.getLength(); i++) {
			NodeList ids = ((Element) nodes.item(i)).getElementsByTagName("artifactId");
			if (ids.getLength() > 0) {
				artifactIds.add(ids.item(0).getTextContent().strip());
			}
		}
		return artifactIds;
	}

}

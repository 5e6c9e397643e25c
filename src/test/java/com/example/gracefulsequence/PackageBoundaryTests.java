package com.example.gracefulsequence;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.syntax.ArchRuleDefinition;
import com.tngtech.archunit.library.Architectures;
import org.junit.jupiter.api.Test;

/**
 * Which package may use which, by package: the sequence's web edge uses the sequence,
 * Tomcat's tuning, problems and the shutdown choreography; cluster mode uses the
 * sequence, the state file and the shutdown choreography, and nothing uses it; the
 * sequence uses the state file and the shutdown choreography; those, problems, Tomcat's
 * tuning and the AOT warnings use no other package of the application. The sequence
 * itself knows nothing of the web: no servlet, Spring web, Tomcat or Jackson type.
 *
 * @author graceful-sequence contributors
 */
class PackageBoundaryTests {

	private static final String ROOT = "com.example.gracefulsequence";

	// Without Spring AOT's generated bean definitions, which wire every package together
	private static final JavaClasses classes = new ClassFileImporter()
		.withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
		.withImportOption((location) -> !location.contains("__"))
		.importPackages(ROOT);

	@Test
	void eachPackageUsesOnlyThePackagesItMayKnow() {
		Architectures.layeredArchitecture()
			.consideringOnlyDependenciesInLayers()
			.layer("application")
			.definedBy(ROOT)
			.layer("web")
			.definedBy(ROOT + ".sequence.web..")
			.layer("sequence")
			.definedBy(ROOT + ".sequence")
			.layer("cluster")
			.definedBy(ROOT + ".sequence.cluster..")
			.layer("tomcat")
			.definedBy(ROOT + ".tomcat..")
			.layer("state")
			.definedBy(ROOT + ".state..")
			.layer("shutdown")
			.definedBy(ROOT + ".shutdown..")
			.layer("problem")
			.definedBy(ROOT + ".problem..")
			.layer("aot")
			.definedBy(ROOT + ".aot..")
			.whereLayer("application")
			.mayNotBeAccessedByAnyLayer()
			.whereLayer("web")
			.mayNotBeAccessedByAnyLayer()
			.whereLayer("sequence")
			.mayOnlyBeAccessedByLayers("web", "cluster")
			.whereLayer("cluster")
			.mayNotBeAccessedByAnyLayer()
			.whereLayer("tomcat")
			.mayOnlyBeAccessedByLayers("web")
			.whereLayer("state")
			.mayOnlyBeAccessedByLayers("sequence", "cluster")
			.whereLayer("shutdown")
			.mayOnlyBeAccessedByLayers("sequence", "web", "cluster")
			.whereLayer("problem")
			.mayOnlyBeAccessedByLayers("web")
			.whereLayer("aot")
			.mayNotBeAccessedByAnyLayer()
			.check(classes);
	}

	@Test
	void theSequenceItselfKnowsNothingOfTheWeb() {
		ArchRuleDefinition.noClasses()
			.that()
			.resideInAPackage(ROOT + ".sequence")
			.should()
			.dependOnClassesThat()
			.resideInAnyPackage("jakarta.servlet..", "org.springframework.web..", "org.springframework.http..",
					"org.springframework.boot.web..", "org.springframework.boot.tomcat..", "org.apache.catalina..",
					"org.apache.coyote..", "org.apache.tomcat..", "tools.jackson..", "com.fasterxml.jackson..")
			.check(classes);
	}

}

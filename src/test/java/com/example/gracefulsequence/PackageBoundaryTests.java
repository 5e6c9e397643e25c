package com.example.gracefulsequence;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.syntax.ArchRuleDefinition;
import com.tngtech.archunit.library.Architectures;
import org.junit.jupiter.api.Test;

/**
 * Which package may use which: the sequence uses the state file and the shutdown
 * choreography, which know nothing of it or of each other; its web edge makes its
 * problems with the problem package, which uses nothing else of the application. Within
 * the sequence, the values, the hub and the producer know nothing of the web.
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
			.layer("sequence")
			.definedBy(ROOT + ".sequence..")
			.layer("state")
			.definedBy(ROOT + ".state..")
			.layer("shutdown")
			.definedBy(ROOT + ".shutdown..")
			.layer("problem")
			.definedBy(ROOT + ".problem..")
			.whereLayer("sequence")
			.mayNotBeAccessedByAnyLayer()
			.whereLayer("state")
			.mayOnlyBeAccessedByLayers("sequence")
			.whereLayer("shutdown")
			.mayOnlyBeAccessedByLayers("sequence")
			.whereLayer("problem")
			.mayOnlyBeAccessedByLayers("sequence")
			.check(classes);
	}

	@Test
	void problemsUseNothingElseOfTheApplication() {
		ArchRuleDefinition.noClasses()
			.that()
			.resideInAPackage(ROOT + ".problem..")
			.should()
			.dependOnClassesThat(JavaClass.Predicates.resideInAPackage(ROOT + "..")
				.and(DescribedPredicate.not(JavaClass.Predicates.resideInAPackage(ROOT + ".problem.."))))
			.check(classes);
	}

	@Test
	void theSequenceItselfKnowsNothingOfTheWeb() {
		ArchRuleDefinition.noClasses()
			.that()
			.haveNameMatching(
					ROOT + "\\.sequence\\.(SequenceValue|SequenceHub|Subscriber|RandomSequenceProducer)(\\$.*)?")
			.should()
			.dependOnClassesThat()
			.resideInAnyPackage("jakarta.servlet..", "org.springframework.web..", "org.springframework.http..",
					"org.apache.catalina..", "tools.jackson..")
			.check(classes);
	}

}

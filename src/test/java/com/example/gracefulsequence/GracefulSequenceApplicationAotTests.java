package com.example.gracefulsequence;

import org.junit.jupiter.api.Test;

import org.springframework.aot.AotDetector;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link GracefulSequenceApplication#useAotWhenPackaged()} outside a jar; that
 * the packaged jar starts AOT-processed is checked by {@code GracefulShutdownIT}.
 *
 * @author graceful-sequence contributors
 */
class GracefulSequenceApplicationAotTests {

	@Test
	void fromAClassesDirectoryTheGeneratedBeanDefinitionsAreNotUsed() {
		String before = System.getProperty(AotDetector.AOT_ENABLED);
		GracefulSequenceApplication.useAotWhenPackaged();
		assertThat(System.getProperty(AotDetector.AOT_ENABLED)).isEqualTo(before);
		assertThat(AotDetector.useGeneratedArtifacts()).isFalse();
	}

}

package com.example.gracefulsequence;

import java.security.CodeSource;

import org.springframework.aot.AotDetector;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.util.ClassUtils;

/**
 * A random-sequence web service that shuts down gracefully.
 *
 * @author graceful-sequence contributors
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class GracefulSequenceApplication {

	private static final String AOT_INITIALIZER = GracefulSequenceApplication.class.getName()
			+ "__ApplicationContextInitializer";

	public static void main(String[] args) {
		useAotWhenPackaged();
		SpringApplication.run(GracefulSequenceApplication.class, args);
	}

	/**
	 * Start from the bean definitions that Spring AOT generated at build time (about a
	 * tenth off the launch) when running from the packaged jar, which holds them, unless
	 * {@code spring.aot.enabled} says otherwise. Not when running from a classes
	 * directory: an IDE or {@code spring-boot:run} does not regenerate them, and stale
	 * ones would hide new beans.
	 */
	static void useAotWhenPackaged() {
		if (System.getProperty(AotDetector.AOT_ENABLED) == null && isPackaged()
				&& ClassUtils.isPresent(AOT_INITIALIZER, GracefulSequenceApplication.class.getClassLoader())) {
			System.setProperty(AotDetector.AOT_ENABLED, "true");
		}
	}

	private static boolean isPackaged() {
		CodeSource source = GracefulSequenceApplication.class.getProtectionDomain().getCodeSource();
		return source != null && source.getLocation() != null && source.getLocation().toString().contains(".jar");
	}

}

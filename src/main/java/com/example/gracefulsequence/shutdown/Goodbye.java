package com.example.gracefulsequence.shutdown;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.boot.SpringApplication;
import org.springframework.context.event.ContextRefreshedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * Says goodbye as the last line the process prints: Spring Boot runs its shutdown
 * handlers after it has closed the contexts, and this one before the logging system's,
 * which was registered earlier. Registered only once the context has started, so that a
 * failed startup does not say goodbye.
 *
 * @author graceful-sequence contributors
 */
@Component
final class Goodbye {

	private static final Logger logger = LoggerFactory.getLogger(Goodbye.class);

	@EventListener(ContextRefreshedEvent.class)
	void onStarted() {
		try {
			SpringApplication.getShutdownHandlers().add(Goodbye::say);
		}
		catch (IllegalStateException ex) {
			// A signal came during startup: the JVM is on its way out already
		}
	}

	private static void say() {
		logger.info("I'm leaving, bye!");
	}

}

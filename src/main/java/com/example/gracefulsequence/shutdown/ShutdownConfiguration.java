package com.example.gracefulsequence.shutdown;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.apache.catalina.Valve;

import org.springframework.boot.autoconfigure.context.LifecycleProperties;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.support.AbstractApplicationContext;
import org.springframework.context.support.DefaultLifecycleProcessor;

/**
 * The time each shutdown phase may take, and the {@link DrainValve} in front of every
 * request.
 *
 * @author graceful-sequence contributors
 */
@Configuration(proxyBeanMethods = false)
class ShutdownConfiguration {

	/**
	 * Put the drain valve first among the context's valves, before those added by other
	 * customizers, whichever runs first.
	 * @param drainValve the drain valve
	 * @return the customizer
	 */
	@Bean
	static WebServerFactoryCustomizer<TomcatServletWebServerFactory> drainValveCustomizer(DrainValve drainValve) {
		return (factory) -> {
			List<Valve> valves = new ArrayList<>();
			valves.add(drainValve);
			valves.addAll(factory.getContextValves());
			factory.setContextValves(valves);
		};
	}

	/**
	 * Spring Boot's lifecycle processor, except that the drain delay may take the delay
	 * on top of the usual per-phase timeout, and the web server's own graceful shutdown
	 * only the tail of the drain timeout that the HTTP drain step leaves it.
	 * @param lifecycle the lifecycle properties
	 * @param shutdown the shutdown properties
	 * @return the lifecycle processor
	 */
	@Bean(AbstractApplicationContext.LIFECYCLE_PROCESSOR_BEAN_NAME)
	static DefaultLifecycleProcessor lifecycleProcessor(LifecycleProperties lifecycle, ShutdownProperties shutdown) {
		Duration timeout = lifecycle.getTimeoutPerShutdownPhase();
		DefaultLifecycleProcessor processor = new DefaultLifecycleProcessor();
		processor.setTimeoutPerShutdownPhase(timeout.toMillis());
		processor.setTimeoutForShutdownPhase(ShutdownStep.DRAIN_DELAY.phase(),
				shutdown.drainDelay().plus(timeout).toMillis());
		processor.setTimeoutForShutdownPhase(WebServerApplicationContext.GRACEFUL_SHUTDOWN_PHASE,
				HttpDrainLifecycle.serverDrainTimeout(timeout).toMillis());
		return processor;
	}

}

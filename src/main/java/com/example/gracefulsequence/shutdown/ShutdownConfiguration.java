package com.example.gracefulsequence.shutdown;

import org.springframework.boot.autoconfigure.context.LifecycleProperties;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.support.AbstractApplicationContext;
import org.springframework.context.support.DefaultLifecycleProcessor;

/**
 * The lifecycle processor, with room for the drain delay.
 *
 * @author graceful-sequence contributors
 */
@Configuration(proxyBeanMethods = false)
class ShutdownConfiguration {

	/**
	 * Boot's lifecycle processor, except that the drain-delay phase may take the delay
	 * plus the usual per-phase timeout (with only the per-phase timeout, a drain delay
	 * longer than it would be cut short), as it also waits for the requests in flight;
	 * the web server's own wait that follows gets what is left of the drain timeout.
	 * @param lifecycle the lifecycle properties
	 * @param shutdown the shutdown properties
	 * @return the lifecycle processor
	 */
	@Bean(AbstractApplicationContext.LIFECYCLE_PROCESSOR_BEAN_NAME)
	static DefaultLifecycleProcessor lifecycleProcessor(LifecycleProperties lifecycle, ShutdownProperties shutdown) {
		long timeout = lifecycle.getTimeoutPerShutdownPhase().toMillis();
		DefaultLifecycleProcessor processor = new DefaultLifecycleProcessor();
		processor.setTimeoutPerShutdownPhase(timeout);
		processor.setTimeoutForShutdownPhase(DrainDelayLifecycle.PHASE, shutdown.drainDelay().toMillis() + timeout);
		processor.setTimeoutForShutdownPhase(WebServerApplicationContext.GRACEFUL_SHUTDOWN_PHASE,
				DrainDelayLifecycle.serverDrainTimeout(lifecycle.getTimeoutPerShutdownPhase()).toMillis());
		return processor;
	}

}

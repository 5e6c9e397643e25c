package com.example.gracefulsequence.sequence;

import java.time.Clock;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

import com.example.gracefulsequence.shutdown.ShutdownTimeline;
import com.example.gracefulsequence.state.StateFile;
import io.micrometer.core.instrument.MeterRegistry;

import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The collaborators of the sequence that come from outside its package.
 *
 * @author graceful-sequence contributors
 */
@Configuration(proxyBeanMethods = false)
class SequenceConfiguration {

	@Bean
	Clock clock() {
		return Clock.systemUTC();
	}

	@Bean
	RandomGenerator sequenceRandom(SequenceProperties properties) {
		Long seed = properties.seed();
		return (seed != null) ? new SplittableRandom(seed) : new SplittableRandom();
	}

	@Bean
	StateFile stateFile(SequenceProperties properties, Clock clock, ShutdownTimeline timeline,
			MeterRegistry meterRegistry) {
		return new StateFile(properties.stateFile(), clock, timeline, meterRegistry);
	}

	@Bean
	FilterRegistrationBean<LatestValueFilter> latestValueFilter(SequenceHub hub, MeterRegistry meterRegistry) {
		FilterRegistrationBean<LatestValueFilter> registration = new FilterRegistrationBean<>(
				new LatestValueFilter(hub, meterRegistry));
		registration.addUrlPatterns(LatestValueFilter.PATH);
		registration.setOrder(LatestValueFilter.ORDER);
		return registration;
	}

}

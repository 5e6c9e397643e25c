package com.example.gracefulsequence.sequence;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

import com.example.gracefulsequence.shutdown.ShutdownTimeline;
import com.example.gracefulsequence.state.StateFile;
import io.micrometer.core.instrument.MeterRegistry;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.cors.CorsConfiguration;
import org.springframework.web.cors.UrlBasedCorsConfigurationSource;
import org.springframework.web.filter.CorsFilter;

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

	/**
	 * Spring's CORS filter on {@code /sequence/**} for the origins in
	 * {@code sequence.cors.allowed-origins}, preflight requests included; none when it is
	 * empty, so that browsers keep other origins out (decided at run time, not in a
	 * condition that Spring AOT would fix at build time). After the request observation,
	 * so that refused requests are counted.
	 * @param properties the sequence properties
	 * @param jsonMapper to write the problem of a refused request
	 * @return the filter registration
	 */
	@Bean
	FilterRegistrationBean<CorsFilter> sequenceCorsFilter(SequenceProperties properties, JsonMapper jsonMapper) {
		List<String> origins = properties.cors().allowedOrigins();
		List<String> methods = List.of("GET", "HEAD");
		List<String> headers = List.of("Last-Event-ID", "Cache-Control");
		CorsConfiguration configuration = new CorsConfiguration();
		configuration.setAllowedOrigins(origins);
		configuration.setAllowedMethods(methods);
		configuration.setAllowedHeaders(headers);
		configuration.setMaxAge(Duration.ofMinutes(30));
		UrlBasedCorsConfigurationSource source = new UrlBasedCorsConfigurationSource();
		source.registerCorsConfiguration("/sequence/**", configuration);
		CorsFilter filter = new CorsFilter(source);
		filter.setCorsProcessor(new CorsProblemProcessor(origins, methods, headers, jsonMapper));
		FilterRegistrationBean<CorsFilter> registration = new FilterRegistrationBean<>(filter);
		registration.addUrlPatterns("/sequence/*");
		registration.setOrder(LatestValueFilter.ORDER + 1);
		registration.setEnabled(!origins.isEmpty());
		return registration;
	}

}

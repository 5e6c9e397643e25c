package com.example.gracefulsequence.sequence.web;

import java.time.Duration;
import java.util.List;

import com.example.gracefulsequence.sequence.SequenceProperties;
import com.example.gracefulsequence.sequence.SubscriberCapacity;
import com.example.gracefulsequence.tomcat.ConnectionTuning;
import io.micrometer.core.instrument.MeterRegistry;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.env.Environment;
import org.springframework.web.cors.CorsConfiguration;
import org.springframework.web.cors.UrlBasedCorsConfigurationSource;
import org.springframework.web.filter.CorsFilter;

/**
 * What stands in front of the sequence's endpoints: the {@link LatestValueValve hot path}
 * in Tomcat's pipeline, and Spring's CORS filter. docs/shutdown.md has the whole order.
 *
 * @author graceful-sequence contributors
 */
@Configuration(proxyBeanMethods = false)
class SequenceWebConfiguration {

	/**
	 * After Spring Boot's request observation filter, at
	 * {@code Ordered.HIGHEST_PRECEDENCE + 1}, so that refused requests are counted.
	 */
	static final int CORS_ORDER = Ordered.HIGHEST_PRECEDENCE + 2;

	/**
	 * Tomcat's connections tuned for the cap on subscribers, whose streams may close
	 * their connection at once.
	 * @param capacity the cap on subscribers
	 * @param environment where {@code server.tomcat.max-connections} may be set
	 * @return the customizer
	 */
	@Bean
	ConnectionTuning connectionTuning(SubscriberCapacity capacity, Environment environment) {
		return new ConnectionTuning(capacity.maxSubscribers(), environment, SequenceController.STREAM);
	}

	/**
	 * Add the hot path to the context's valves, after the drain valve, which puts itself
	 * first; none when {@code sequence.fast-path.enabled} is false, so that every request
	 * goes through the servlet filters (decided at run time, not in a condition that
	 * Spring AOT would fix at build time).
	 * @param properties the sequence properties
	 * @param renderer the rendered values
	 * @param meterRegistry where the observation records requests
	 * @return the customizer
	 */
	@Bean
	WebServerFactoryCustomizer<TomcatServletWebServerFactory> latestValueValveCustomizer(SequenceProperties properties,
			ValueRenderer renderer, MeterRegistry meterRegistry) {
		if (!properties.fastPath().enabled()) {
			return (factory) -> {
			};
		}
		LatestValueValve valve = new LatestValueValve(renderer, meterRegistry);
		return (factory) -> factory.addContextValves(valve);
	}

	/**
	 * Spring's CORS filter on {@code /sequence/**} for the origins in
	 * {@code sequence.cors.allowed-origins}, preflight requests included; none when it is
	 * empty, so that browsers keep other origins out (decided at run time, not in a
	 * condition that Spring AOT would fix at build time).
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
		registration.setOrder(CORS_ORDER);
		registration.setEnabled(!origins.isEmpty());
		return registration;
	}

}

package com.example.gracefulsequence.sequence;

import java.time.Duration;
import java.util.List;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import jakarta.servlet.DispatcherType;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.micrometer.observation.autoconfigure.ObservationProperties;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.http.server.observation.DefaultServerRequestObservationConvention;
import org.springframework.http.server.observation.ServerRequestObservationConvention;
import org.springframework.web.cors.CorsConfiguration;
import org.springframework.web.cors.UrlBasedCorsConfigurationSource;
import org.springframework.web.filter.CorsFilter;
import org.springframework.web.filter.ServerHttpObservationFilter;

/**
 * The servlet filters in front of the sequence's endpoints, in this order: the shutdown's
 * {@code DrainFilter} at {@link Ordered#HIGHEST_PRECEDENCE}, then the
 * {@link LatestValueFilter hot path}, the request observation, and CORS.
 *
 * @author graceful-sequence contributors
 */
@Configuration(proxyBeanMethods = false)
class SequenceWebConfiguration {

	/**
	 * After the drain filter, so that its answers say {@code Connection: close} while the
	 * service drains and count as in flight; before the observation, which it skips.
	 */
	static final int LATEST_VALUE_ORDER = Ordered.HIGHEST_PRECEDENCE + 1;

	/**
	 * Spring Boot puts it at {@link #LATEST_VALUE_ORDER}, where the order of the two
	 * would be a tie; one place further, it is explicit.
	 */
	static final int OBSERVATION_ORDER = Ordered.HIGHEST_PRECEDENCE + 2;

	/**
	 * After the observation, so that refused requests are counted.
	 */
	static final int CORS_ORDER = Ordered.HIGHEST_PRECEDENCE + 3;

	@Bean
	FilterRegistrationBean<LatestValueFilter> latestValueFilter(ValueRenderer renderer, MeterRegistry meterRegistry) {
		FilterRegistrationBean<LatestValueFilter> registration = new FilterRegistrationBean<>(
				new LatestValueFilter(renderer, meterRegistry));
		registration.addUrlPatterns(LatestValueFilter.PATH);
		registration.setOrder(LATEST_VALUE_ORDER);
		return registration;
	}

	/**
	 * Spring Boot's request observation filter, as its auto-configuration makes it, which
	 * backs off for this one, at {@link #OBSERVATION_ORDER}.
	 * @param observationRegistry the observation registry
	 * @param customConvention a convention of the application, if any
	 * @param observationProperties the observation properties
	 * @return the filter registration
	 */
	@Bean
	FilterRegistrationBean<ServerHttpObservationFilter> webMvcObservationFilter(ObservationRegistry observationRegistry,
			ObjectProvider<ServerRequestObservationConvention> customConvention,
			ObservationProperties observationProperties) {
		String name = observationProperties.getHttp().getServer().getRequests().getName();
		ServerRequestObservationConvention convention = customConvention
			.getIfAvailable(() -> new DefaultServerRequestObservationConvention(name));
		FilterRegistrationBean<ServerHttpObservationFilter> registration = new FilterRegistrationBean<>(
				new ServerHttpObservationFilter(observationRegistry, convention));
		registration.setOrder(OBSERVATION_ORDER);
		registration.setDispatcherTypes(DispatcherType.REQUEST, DispatcherType.ASYNC);
		return registration;
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

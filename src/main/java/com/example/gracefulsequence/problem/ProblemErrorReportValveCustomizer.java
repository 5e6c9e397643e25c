package com.example.gracefulsequence.problem;

import org.apache.catalina.Context;
import org.apache.catalina.Valve;
import org.apache.catalina.core.StandardHost;
import org.apache.catalina.valves.ErrorReportValve;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.core.Ordered;
import org.springframework.stereotype.Component;

/**
 * Puts a {@link ProblemErrorReportValve} in place of the {@link ErrorReportValve} that
 * Tomcat, and Spring Boot, put on the host.
 *
 * @author graceful-sequence contributors
 */
@Component
final class ProblemErrorReportValveCustomizer
		implements WebServerFactoryCustomizer<TomcatServletWebServerFactory>, Ordered {

	private final JsonMapper jsonMapper;

	ProblemErrorReportValveCustomizer(JsonMapper jsonMapper) {
		this.jsonMapper = jsonMapper;
	}

	@Override
	public void customize(TomcatServletWebServerFactory factory) {
		factory.addContextCustomizers(this::replaceErrorReportValve);
	}

	private void replaceErrorReportValve(Context context) {
		StandardHost host = (StandardHost) context.getParent();
		for (Valve valve : host.getPipeline().getValves()) {
			if (valve instanceof ErrorReportValve) {
				host.getPipeline().removeValve(valve);
			}
		}
		// With the application's JsonMapper, which writes every problem; the host, which
		// looks for a valve of this class name when it starts, adds no other
		host.getPipeline().addValve(new ProblemErrorReportValve(this.jsonMapper));
		host.setErrorReportValveClass(ProblemErrorReportValve.class.getName());
	}

	/**
	 * After Spring Boot's own Tomcat customizer, which adds an {@link ErrorReportValve}.
	 */
	@Override
	public int getOrder() {
		return Ordered.LOWEST_PRECEDENCE;
	}

}

package com.example.gracefulsequence.problem;

import org.apache.catalina.Valve;
import org.apache.catalina.core.StandardHost;
import org.apache.catalina.valves.ErrorReportValve;

import org.springframework.boot.tomcat.TomcatContextCustomizer;
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

	@Override
	public void customize(TomcatServletWebServerFactory factory) {
		factory.addContextCustomizers(replaceErrorReportValve());
	}

	private static TomcatContextCustomizer replaceErrorReportValve() {
		return (context) -> {
			StandardHost host = (StandardHost) context.getParent();
			for (Valve valve : host.getPipeline().getValves()) {
				if (valve instanceof ErrorReportValve) {
					host.getPipeline().removeValve(valve);
				}
			}
			// The host creates its error report valve from this class name when it starts
			host.setErrorReportValveClass(ProblemErrorReportValve.class.getName());
		};
	}

	/**
	 * After Spring Boot's own Tomcat customizer, which adds an {@link ErrorReportValve}.
	 */
	@Override
	public int getOrder() {
		return Ordered.LOWEST_PRECEDENCE;
	}

}

package com.example.gracefulsequence.tomcat;

import java.io.IOException;

import jakarta.servlet.ServletException;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;
import org.apache.coyote.ActionCode;

/**
 * Gives each stream request a way to close its connection at once, which the Servlet API
 * lacks: completing a stream whose client stopped reading would have Tomcat wait, up to
 * its write timeout, to flush what the client does not take, and hold the HTTP drain
 * meanwhile.
 *
 * @author graceful-sequence contributors
 */
public final class CloseNowValve extends ValveBase {

	/**
	 * The request attribute that holds a {@link Runnable} that closes the connection.
	 */
	public static final String ATTRIBUTE = CloseNowValve.class.getName();

	private final String streamPath;

	/**
	 * Create the valve for the streams at the given path.
	 * @param streamPath the request URI of a stream
	 */
	CloseNowValve(String streamPath) {
		super(true);
		this.streamPath = streamPath;
	}

	@Override
	public void invoke(Request request, Response response) throws IOException, ServletException {
		if (this.streamPath.equals(request.getRequestURI())) {
			request.setAttribute(ATTRIBUTE,
					(Runnable) () -> request.getCoyoteRequest().action(ActionCode.CLOSE_NOW, null));
		}
		getNext().invoke(request, response);
	}

}

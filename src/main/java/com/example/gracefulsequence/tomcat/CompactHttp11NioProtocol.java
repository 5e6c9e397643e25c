package com.example.gracefulsequence.tomcat;

import org.apache.coyote.http11.Http11NioProtocol;

/**
 * Tomcat's NIO HTTP/1.1 protocol with a smaller response buffer. Tomcat sizes the
 * response's byte and char buffers, which every open stream keeps for as long as it
 * lasts, from the protocol handler, at Tomcat's defaults (the table of buffers in
 * docs/streams.md gives them) unless it says otherwise; the service's answers and events
 * are a few hundred bytes, and a larger body (the Prometheus scrape) is written through
 * in pieces. Public, with a public constructor, since Tomcat creates it by its class
 * name.
 *
 * @author graceful-sequence contributors
 */
public final class CompactHttp11NioProtocol extends Http11NioProtocol {

	/**
	 * The size of the response's byte buffer, and of its char buffer in chars.
	 */
	static final int RESPONSE_BUFFER = 1024;

	@Override
	public int getDesiredBufferSize() {
		return RESPONSE_BUFFER;
	}

}

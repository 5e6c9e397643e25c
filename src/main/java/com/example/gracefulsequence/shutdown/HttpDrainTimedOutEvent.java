package com.example.gracefulsequence.shutdown;

import org.springframework.context.ApplicationEvent;

/**
 * Published when the HTTP drain runs out of time with requests still in flight, so that
 * whatever holds requests open answers them now rather than have them cut.
 *
 * @author graceful-sequence contributors
 */
public final class HttpDrainTimedOutEvent extends ApplicationEvent {

	HttpDrainTimedOutEvent(Object source) {
		super(source);
	}

}

package com.example.gracefulsequence;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/**
 * A random-sequence web service that shuts down gracefully.
 *
 * @author graceful-sequence contributors
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class GracefulSequenceApplication {

	public static void main(String[] args) {
		SpringApplication.run(GracefulSequenceApplication.class, args);
	}

}

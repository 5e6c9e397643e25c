package com.example.gracefulsequence.sequence;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests of {@link SubscriberPlaces}.
 *
 * @author graceful-sequence contributors
 */
class SubscriberPlacesTests {

	@Test
	void placesAreTakenUpToTheCapAndGivenBack() {
		SubscriberPlaces places = new SubscriberPlaces(2, 0);
		assertThat(places.take("a")).isEqualTo(Admission.TAKEN);
		assertThat(places.take("a")).isEqualTo(Admission.TAKEN);
		assertThat(places.take("b")).isEqualTo(Admission.FULL);
		places.release("a");
		assertThat(places.take("b")).isEqualTo(Admission.TAKEN);
	}

	@Test
	void oneClientTakesNoMoreThanItsShareWhileOthersStillGetPlaces() {
		SubscriberPlaces places = new SubscriberPlaces(10, 2);
		assertThat(places.take("a")).isEqualTo(Admission.TAKEN);
		assertThat(places.take("a")).isEqualTo(Admission.TAKEN);
		assertThat(places.take("a")).isEqualTo(Admission.CLIENT_FULL);
		assertThat(places.take("b")).isEqualTo(Admission.TAKEN);
		places.release("a");
		assertThat(places.take("a")).isEqualTo(Admission.TAKEN);
		places.release("a");
		places.release("a");
		places.release("b");
		assertThat(places.clients()).as("a client without places is forgotten").isZero();
		// A refused client's attempts did not use up places of the cap
		for (int i = 0; i < 5; i++) {
			assertThat(places.take("c" + i)).isEqualTo(Admission.TAKEN);
			assertThat(places.take("c" + i)).isEqualTo(Admission.TAKEN);
		}
		assertThat(places.take("d")).isEqualTo(Admission.FULL);
	}

}

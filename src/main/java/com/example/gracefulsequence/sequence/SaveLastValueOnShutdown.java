package com.example.gracefulsequence.sequence;

import com.example.gracefulsequence.shutdown.PreDestroyShutdownStep;
import com.example.gracefulsequence.state.StateFileWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.stereotype.Component;

/**
 * Shutdown step 7: writes the latest value, produced or restored, to the state file once
 * more as the service stops; writes nothing if there is none.
 *
 * @author graceful-sequence contributors
 */
@Component
final class SaveLastValueOnShutdown extends PreDestroyShutdownStep {

	private static final Logger logger = LoggerFactory.getLogger(SaveLastValueOnShutdown.class);

	private final SequenceHub hub;

	private final StateFileWriter stateFile;

	SaveLastValueOnShutdown(SequenceHub hub, StateFileWriter stateFile) {
		this.hub = hub;
		this.stateFile = stateFile;
	}

	@Override
	protected void onDestroy() {
		SequenceValue last = this.hub.latest();
		if (last == null) {
			logger.info("No value to save to state file {}", this.stateFile.path());
		}
		else if (this.stateFile.write(last.value(), last.emittedAt())) {
			logger.info("Saved last value {} to state file {}", last.value(), this.stateFile.path());
		}
	}

}

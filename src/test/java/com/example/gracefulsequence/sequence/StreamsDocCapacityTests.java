package com.example.gracefulsequence.sequence;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests that the table of streams per heap in {@code docs/streams.md} is what
 * {@link SubscriberCapacity} computes.
 *
 * @author graceful-sequence contributors
 */
class StreamsDocCapacityTests {

	private static final Path STREAMS = Path.of("docs", "streams.md");

	private static final Pattern ROW = Pattern.compile("\\| `-Xmx[^|]*\\| ([\\d,]+) MiB \\| ([\\d,]+) \\|");

	@Test
	void everyRowOfTheTableIsWhatTheOldGenerationHolds() throws IOException {
		Matcher row = ROW.matcher(Files.readString(STREAMS));
		int rows = 0;
		while (row.find()) {
			long oldGeneration = Long.parseLong(row.group(1).replace(",", "")) * 1024 * 1024;
			int streams = Integer.parseInt(row.group(2).replace(",", ""));
			// The table rounds the old generation down to whole MiB
			assertThat(SubscriberCapacity.heapHolds(oldGeneration + 1024 * 1024 - 1)).as(row.group())
				.isGreaterThanOrEqualTo(streams);
			assertThat(SubscriberCapacity.heapHolds(oldGeneration)).as(row.group()).isLessThanOrEqualTo(streams);
			rows++;
		}
		assertThat(rows).isGreaterThanOrEqualTo(5);
	}

}

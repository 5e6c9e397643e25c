package com.example.gracefulsequence.state;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;

/**
 * The file that keeps the last value of the sequence: one line,
 * {@code Last number from random sequence: N}, replaced atomically on every write so that
 * a crash at any instant leaves either the previous or the new complete file. Its
 * modification time is when the value was emitted, so that a restored value keeps the
 * emission time, and so the event id, it had before the restart.
 *
 * @author graceful-sequence contributors
 */
public final class StateFile {

	private static final Logger logger = LoggerFactory.getLogger(StateFile.class);

	static final String PREFIX = "Last number from random sequence: ";

	private static final Pattern LINE = Pattern.compile(Pattern.quote(PREFIX) + "(\\d{1,10})\\n?");

	private static final DateTimeFormatter CORRUPT_SUFFIX = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssSSS'Z'")
		.withZone(ZoneOffset.UTC);

	private static final String PROPERTY = "sequence.state-file";

	private final Path path;

	private final Path temporary;

	private final Clock clock;

	/**
	 * Create a state file at the given path, checking that it can be written.
	 * @param path the path of the file, relative to the working directory
	 * @param clock the clock to name corrupt files by
	 * @throws InvalidConfigurationPropertyValueException if the path is a directory or
	 * its directory cannot be written
	 */
	public StateFile(Path path, Clock clock) {
		this.path = path.toAbsolutePath().normalize();
		this.temporary = this.path.resolveSibling(this.path.getFileName() + ".tmp");
		this.clock = clock;
		checkWritable();
	}

	private void checkWritable() {
		if (Files.isDirectory(this.path)) {
			throw new InvalidConfigurationPropertyValueException(PROPERTY, this.path,
					"It is a directory. Point it at a file, for example " + this.path.resolve("last-num-from-seq.txt")
							+ ".");
		}
		Path directory = this.path.getParent();
		try {
			Files.createDirectories(directory);
			Files.deleteIfExists(this.temporary);
			Files.delete(Files.createTempFile(directory, ".write-check-", ".tmp"));
		}
		catch (IOException | SecurityException ex) {
			throw new InvalidConfigurationPropertyValueException(PROPERTY, this.path,
					"Its directory " + directory + " cannot be written (" + describe(ex)
							+ "). Make the directory writable for the user that runs the service, "
							+ "or point the property at a file in a writable directory.",
					ex);
		}
	}

	/**
	 * The absolute path of the file.
	 * @return the path
	 */
	public Path path() {
		return this.path;
	}

	/**
	 * Read the saved value. A file that cannot be parsed is moved aside as
	 * {@code <name>.corrupt-<timestamp>} and treated as absent.
	 * @return the saved value, or empty if there is none
	 */
	public Optional<SavedValue> restore() {
		String content;
		Instant savedAt;
		try {
			content = Files.readString(this.path, StandardCharsets.UTF_8);
			savedAt = Files.getLastModifiedTime(this.path).toInstant();
		}
		catch (NoSuchFileException ex) {
			logger.info("No state file at {}; starting without a value", this.path);
			return Optional.empty();
		}
		catch (IOException ex) {
			return moveAside("it cannot be read (" + describe(ex) + ")");
		}
		Integer value = parse(content);
		if (value == null) {
			return moveAside("it does not hold one line '" + PREFIX + "N'");
		}
		SavedValue saved = new SavedValue(value, savedAt);
		logger.info("Restored value {} from state file {} saved at {}", value, this.path, savedAt);
		return Optional.of(saved);
	}

	static @Nullable Integer parse(String content) {
		Matcher matcher = LINE.matcher(content);
		if (!matcher.matches()) {
			return null;
		}
		try {
			return Integer.valueOf(matcher.group(1));
		}
		catch (NumberFormatException ex) {
			return null;
		}
	}

	private Optional<SavedValue> moveAside(String reason) {
		Path aside = this.path
			.resolveSibling(this.path.getFileName() + ".corrupt-" + CORRUPT_SUFFIX.format(this.clock.instant()));
		try {
			Files.move(this.path, aside, StandardCopyOption.ATOMIC_MOVE);
			logger.warn("State file {} is unusable: {}; moved it to {} and starting without a value", this.path, reason,
					aside);
		}
		catch (IOException ex) {
			logger.warn("State file {} is unusable: {}, and could not be moved aside ({}); starting without a value",
					this.path, reason, describe(ex));
		}
		return Optional.empty();
	}

	/**
	 * Replace the file with one that holds the given value, atomically and durably.
	 * @param value the value to save
	 * @param emittedAt when it was emitted, which becomes the file's modification time
	 * @throws IOException if the file cannot be written
	 */
	public void write(int value, Instant emittedAt) throws IOException {
		ByteBuffer line = ByteBuffer.wrap((PREFIX + value + "\n").getBytes(StandardCharsets.UTF_8));
		try (FileChannel channel = FileChannel.open(this.temporary, StandardOpenOption.CREATE,
				StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
			while (line.hasRemaining()) {
				channel.write(line);
			}
			Files.setLastModifiedTime(this.temporary, FileTime.from(emittedAt));
			channel.force(true);
		}
		try {
			Files.move(this.temporary, this.path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
		}
		catch (AtomicMoveNotSupportedException ex) {
			throw new IOException("The file system of " + this.path + " cannot replace files atomically", ex);
		}
		try (FileChannel directory = FileChannel.open(this.path.getParent(), StandardOpenOption.READ)) {
			directory.force(true);
		}
	}

	static String describe(Throwable ex) {
		return ex.getClass().getSimpleName() + ": " + ex.getMessage();
	}

}

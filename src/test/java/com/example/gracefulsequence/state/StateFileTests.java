package com.example.gracefulsequence.state;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Tests for {@link StateFile}.
 *
 * @author graceful-sequence contributors
 */
@ExtendWith(OutputCaptureExtension.class)
class StateFileTests {

	private static final Instant NOW = Instant.parse("2026-11-26T10:15:30.123Z");

	@TempDir
	Path directory;

	private StateFile stateFile(Path path) {
		return new StateFile(path, Clock.fixed(NOW, ZoneOffset.UTC));
	}

	@Test
	void writeWritesExactlyOneLineInTheContractFormat() throws IOException {
		Path path = this.directory.resolve("last.txt");
		stateFile(path).write(42, NOW);
		assertThat(Files.readString(path)).isEqualTo("Last number from random sequence: 42\n");
	}

	@Test
	void theModificationTimeIsTheEmissionTimeSoThatARestoredValueKeepsIt() throws IOException {
		Path path = this.directory.resolve("last.txt");
		StateFile stateFile = stateFile(path);
		stateFile.write(42, NOW);
		assertThat(Files.getLastModifiedTime(path).toInstant()).isEqualTo(NOW);
		assertThat(stateFile(path).restore()).contains(new SavedValue(42, NOW));
	}

	@Test
	void relativePathsResolveAgainstTheWorkingDirectory() {
		StateFile stateFile = new StateFile(Path.of("target", "state-file-tests", "last.txt"), Clock.systemUTC());
		assertThat(stateFile.path()).isAbsolute()
			.isEqualTo(Path.of("").toAbsolutePath().resolve("target/state-file-tests/last.txt"));
	}

	@Test
	void restoreReadsAValidFileWithItsModificationTime() throws IOException {
		Path path = this.directory.resolve("last.txt");
		Files.writeString(path, "Last number from random sequence: 7\n");
		Instant modified = Files.getLastModifiedTime(path).toInstant();
		assertThat(stateFile(path).restore()).contains(new SavedValue(7, modified));
	}

	@Test
	void restoreAcceptsAFileWithoutATrailingNewline() throws IOException {
		Path path = this.directory.resolve("last.txt");
		Files.writeString(path, "Last number from random sequence: 0");
		assertThat(stateFile(path).restore()).map(SavedValue::value).contains(0);
	}

	@Test
	void restoreOfAMissingFileIsEmpty() {
		assertThat(stateFile(this.directory.resolve("last.txt")).restore()).isEmpty();
	}

	@Test
	void restoreMovesAnUnparsableFileAsideWithAWarning(CapturedOutput output) throws IOException {
		Path path = this.directory.resolve("last.txt");
		Files.writeString(path, "Last number from rand");
		Optional<SavedValue> restored = stateFile(path).restore();
		assertThat(restored).isEmpty();
		assertThat(path).doesNotExist();
		Path aside = this.directory.resolve("last.txt.corrupt-20261126T101530123Z");
		assertThat(aside).hasContent("Last number from rand");
		assertThat(output).contains("WARN").contains("State file " + path + " is unusable").contains(aside.toString());
	}

	@Test
	void parseAcceptsOnlyOneLineWithANonNegativeNumber() {
		assertThat(StateFile.parse("Last number from random sequence: 42\n")).isEqualTo(42);
		assertThat(StateFile.parse("Last number from random sequence: 2147483647")).isEqualTo(Integer.MAX_VALUE);
		List<String> invalid = List.of("", "\n", "Last number from random sequence: ",
				"Last number from random sequence: -1\n", "Last number from random sequence: 2147483648\n",
				"Last number from random sequence: 4\n2\n", "last number from random sequence: 4\n",
				"Last number from random sequence: 4x\n", "Last number from random sequence: 42\n\n");
		assertThat(invalid).allSatisfy((content) -> assertThat(StateFile.parse(content)).isNull());
	}

	@Test
	void aDirectoryAtThePathIsRefusedNamingThePropertyAndThePath() throws IOException {
		Path path = Files.createDirectory(this.directory.resolve("last.txt"));
		assertThatExceptionOfType(InvalidConfigurationPropertyValueException.class).isThrownBy(() -> stateFile(path))
			.satisfies((ex) -> assertThat(ex.getName()).isEqualTo("sequence.state-file"))
			.withMessageContaining(path.toString())
			.withMessageContaining("It is a directory");
	}

	@Test
	void aDirectoryThatCannotBeCreatedIsRefusedNamingThePath() throws IOException {
		Path file = Files.writeString(this.directory.resolve("not-a-directory"), "x");
		Path path = file.resolve("last.txt");
		assertThatExceptionOfType(InvalidConfigurationPropertyValueException.class).isThrownBy(() -> stateFile(path))
			.withMessageContaining("cannot be written")
			.withMessageContaining(file.toString());
	}

	@Test
	void aMissingDirectoryIsCreated() throws IOException {
		Path path = this.directory.resolve("a/b/last.txt");
		stateFile(path).write(3, NOW);
		assertThat(path).hasContent("Last number from random sequence: 3");
	}

}

package com.example.gracefulsequence;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.chromium.ChromiumDriver;

import static org.assertj.core.api.Assertions.fail;

/**
 * A real headless Chromium for tests: Debian's {@code chromium} driven by its
 * {@code chromium-driver}, both named explicitly so that Selenium never looks for (or
 * downloads) a browser or a driver of its own. Each instance has a fresh profile, and
 * closing it always quits the browser and deletes the profile.
 * <p>
 * Without the browser or the driver a test that asks for one is skipped, with the command
 * that installs them, unless the environment variable {@code CI} is set: then it fails,
 * so that CI always runs the browser tests.
 *
 * @author graceful-sequence contributors
 */
public final class Browser implements AutoCloseable {

	static final Path CHROMIUM = Path.of(System.getProperty("graceful-sequence.chromium", "/usr/bin/chromium"));

	static final Path CHROMEDRIVER = Path
		.of(System.getProperty("graceful-sequence.chromedriver", "/usr/bin/chromedriver"));

	private static final List<String> ARGUMENTS = List.of("--headless=new", "--no-sandbox", "--disable-gpu",
			"--disable-dev-shm-usage", "--disable-quic", "--no-first-run", "--disable-background-networking",
			"--disable-component-update", "--disable-sync", "--window-size=1000,1100");

	// This fixture uses no DevTools protocol, so that Selenium has none matching this
	// Chromium is no news; the loggers are held here so that their level stays set
	private static final List<Logger> quietLoggers = Stream
		.of(ChromiumDriver.class.getName(), "org.openqa.selenium.devtools.CdpVersionFinder")
		.map(Browser::quiet)
		.toList();

	private static final AtomicBoolean skipAnnounced = new AtomicBoolean();

	private final ChromeDriver driver;

	private final Path profile;

	private Browser(ChromeDriver driver, Path profile) {
		this.driver = driver;
		this.profile = profile;
	}

	/**
	 * Skip the calling test, or fail it when {@code CI} is set, if the browser or its
	 * driver is missing.
	 */
	public static void assumeInstalled() {
		if (Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER)) {
			return;
		}
		String missing = CHROMIUM + " or " + CHROMEDRIVER
				+ " is missing; install them with .ci/install-browser.sh (as root)";
		if (System.getenv("CI") != null) {
			fail("Browser tests cannot run: " + missing + ". CI is set, so they fail instead of being skipped");
		}
		// Said once on the console as well: the build's summary counts skipped tests but
		// does not say why
		if (skipAnnounced.compareAndSet(false, true)) {
			System.err.println("Browser tests skipped: " + missing);
		}
		Assumptions.abort(missing);
	}

	/**
	 * Start a headless browser with a fresh profile.
	 * @return the browser
	 * @throws IOException if the profile directory cannot be created
	 */
	public static Browser start() throws IOException {
		assumeInstalled();
		Path profile = Files.createTempDirectory("graceful-sequence-chromium");
		ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
			.usingAnyFreePort()
			.build();
		ChromeOptions options = new ChromeOptions();
		options.setBinary(CHROMIUM.toFile());
		options.addArguments(ARGUMENTS);
		options.addArguments("--user-data-dir=" + profile);
		try {
			return new Browser(new ChromeDriver(service, options), profile);
		}
		catch (RuntimeException ex) {
			service.stop();
			delete(profile);
			throw ex;
		}
	}

	/**
	 * Open a page.
	 * @param uri the page's address
	 */
	public void open(URI uri) {
		this.driver.get(uri.toString());
	}

	/**
	 * Run a script in the page, as the body of a function.
	 * @param script the script, such as {@code return window.sequencePage}
	 * @return what it returned, as Selenium converts it ({@code Long}, {@code String},
	 * {@code List}, {@code Map}, ...)
	 */
	public Object script(String script) {
		return ((JavascriptExecutor) this.driver).executeScript(script);
	}

	/**
	 * The text of an element as the user sees it: empty while the element is hidden.
	 * @param id the element's id
	 * @return its visible text
	 */
	public String text(String id) {
		return this.driver.findElement(By.id(id)).getText();
	}

	/**
	 * Whether an element is shown, as the user would see it (not {@code hidden}, nor
	 * inside a hidden element).
	 * @param id the element's id
	 * @return {@code true} if it is displayed
	 */
	public boolean isDisplayed(String id) {
		return this.driver.findElement(By.id(id)).isDisplayed();
	}

	/**
	 * Save a screenshot of the window as PNG.
	 * @param file where to save it
	 * @throws IOException if it cannot be written
	 */
	public void screenshot(Path file) throws IOException {
		Files.createDirectories(file.toAbsolutePath().getParent());
		Files.write(file, this.driver.getScreenshotAs(OutputType.BYTES));
	}

	@Override
	public void close() {
		try {
			this.driver.quit();
		}
		finally {
			delete(this.profile);
		}
	}

	private static Logger quiet(String name) {
		Logger logger = Logger.getLogger(name);
		logger.setLevel(Level.SEVERE);
		return logger;
	}

	private static void delete(Path directory) {
		try (Stream<Path> paths = Files.walk(directory)) {
			paths.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
		}
		catch (IOException | UncheckedIOException ex) {
			// Chromium's helpers may still be writing; the rest is left to the system's
			// temporary directory cleaning
		}
	}

}

package org.clmr.worker.collective;

import io.aeron.Aeron;
import io.aeron.CncFileDescriptor;
import io.aeron.CommonContext;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.aeron.exceptions.AeronException;
import io.aeron.exceptions.DriverTimeoutException;
import org.agrona.CloseHelper;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;
import org.clmr.protocol.UserError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One process's Aeron: the media driver (embedded, or an external one it connects to) and the Aeron
 * client, kept across generations. An embedded driver runs in Aeron's INVOKER mode: its duty cycle is
 * run by the thread waiting in a collective, otherwise by a keeper thread (see {@link DriverDuty}).
 * {@link #join(Membership)} opens the {@link AeronCollective} of a generation on it. Start-up failures a
 * user can fix (a busy driver directory, no driver to connect to) are {@link UserError}s of one line.
 *
 * <p>The collectives' deadlines (operation, connect) are read from the transport's {@link NanoClock}: the
 * system clock in production, a hand-advanced one in tests. Aeron's own timeouts (the driver's liveness
 * of clients, images and publications) keep Aeron's clocks. {@link #metrics()} may be read from any
 * thread; a generation is joined by the thread that will run its operations.
 */
public final class AeronTransport implements AutoCloseable {
    /**
     * The least time a process's Aeron client may go without running its conductor ("service interval exceeded":
     * the clients take the driver's client liveness as their service interval) or without a driver heartbeat (a
     * driver timeout) before it closes itself: a host loaded far beyond its cores starved conductors and embedded
     * drivers for 2.5-7 s and killed workers when these followed {@code liveness-timeout} and
     * {@code connect-timeout} (2 s and 5 s in tests). A lost peer is still found by its image's liveness
     * ({@code liveness-timeout}); only an IPC peer's death (one shared driver) is now noticed after this long.
     */
    static final long STARVED_HOST_MS = 10_000;

    private static final Logger LOG = LoggerFactory.getLogger(AeronTransport.class);
    private static final Pattern HEARTBEAT_AGE = Pattern.compile("heartbeat age is \\(ms\\): (-?\\d+)");
    private final AeronSettings settings;
    private final MediaDriver driver;
    private final DriverDuty duty;
    private final String directory;
    private final NanoClock clock;
    private final CollectiveMetrics metrics = new CollectiveMetrics();
    /** The client; replaced by {@link #reopenIfLost()} on the training thread after it closed itself. */
    private volatile Aeron aeron;
    /** Set by the client's close handler when it closed itself (its conductor's thread), not by {@link #close()}. */
    private volatile boolean lost;
    private volatile boolean closing;

    private AeronTransport(AeronSettings settings, NanoClock clock, MediaDriver driver, DriverDuty duty,
                           String directory) {
        this.settings = settings;
        this.clock = clock;
        this.driver = driver;
        this.duty = duty;
        this.directory = directory;
    }

    /** Starts the embedded driver if the settings ask for one, and connects the client; deadlines on the system clock. */
    public static AeronTransport start(AeronSettings settings) {
        return start(settings, SystemNanoClock.INSTANCE);
    }

    /**
     * Starts the embedded driver if the settings ask for one, and connects the client; the collectives'
     * deadlines are read from {@code clock}.
     */
    public static AeronTransport start(AeronSettings settings, NanoClock clock) {
        MediaDriver driver = null;
        DriverDuty duty = null;
        String dir = settings.driverDir();
        if (settings.embeddedDriver()) {
            if (dir.isEmpty()) {
                dir = freshDirectory();
            }
            driver = launchDriver(settings, dir, true);
            duty = new DriverDuty(driver.sharedAgentInvoker(), settings.idleMaxPark().toNanos());
        }
        String directory = dir.isEmpty() ? CommonContext.getAeronDirectoryName() : dir;
        if (!settings.embeddedDriver() && !CommonContext.isDriverActive(new File(directory),
                Math.max(1_000, settings.connectTimeout().toMillis()), ignored -> { })) {
            throw noDriver(directory, settings, "no active driver found there", null);
        }
        AeronTransport transport = new AeronTransport(settings, clock, driver, duty, directory);
        try {
            transport.aeron = transport.connect();
            LOG.info("aeron: {} driver in {}, transport {}", settings.embeddedDriver() ? "embedded" : "external",
                    directory, settings.ipc() ? "ipc" : "udp " + settings.endpoint());
            return transport;
        } catch (DriverTimeoutException e) {
            CloseHelper.quietCloseAll(duty, driver);
            throw noDriver(directory, settings, oneLine(e), e);
        } catch (RuntimeException e) {
            CloseHelper.quietCloseAll(duty, driver);
            throw e;
        }
    }

    /**
     * Connects a client to this transport's driver. Its errors are logged in one line: Aeron's default handler
     * prints stack traces and, on a driver timeout, exits the JVM (status 255, "Media Driver timeout - is it
     * running? exiting client"), which is how a loaded host killed workers. When the client closes itself (its
     * conductor starved past the driver's client liveness, or no driver heartbeat for {@link #STARVED_HOST_MS})
     * it is marked lost, and {@link #reopenIfLost()} replaces it: a loaded host costs a worker its generation,
     * never its process.
     */
    private Aeron connect() {
        Aeron.Context ctx = new Aeron.Context().aeronDirectoryName(directory)
                .errorHandler(e -> LOG.warn("aeron client: {}", oneLine(e)));
        // a starved host must not time its own driver out (see STARVED_HOST_MS); a missing one is found at once
        ctx.driverTimeoutMs(Math.max(STARVED_HOST_MS, settings.connectTimeout().toMillis()));
        Aeron client = Aeron.connect(ctx);
        client.addCloseHandler(() -> {
            if (!closing) {
                lost = true;
            }
        });
        return client;
    }

    /**
     * Whether the client closed itself (see {@link #connect()}): operations on it fail until
     * {@link #reopenIfLost()}. Any thread.
     */
    public boolean clientLost() {
        return lost;
    }

    /**
     * Replaces a client that closed itself with a new one on the same driver, counted in
     * {@link CollectiveMetrics#clientsReopened()}; nothing when the client is fine. Called by the thread that
     * joins generations, before it joins; a driver that is gone too is a {@link UserError}.
     */
    public synchronized void reopenIfLost() {
        if (!lost || closing) {
            return;
        }
        CloseHelper.quietClose(aeron);
        try {
            aeron = connect();
        } catch (DriverTimeoutException e) {
            throw noDriver(directory, settings, oneLine(e), e);
        }
        lost = false;
        metrics.clientReopened();
        LOG.warn("aeron: the client had closed itself (a starved host: its conductor or the driver did not run"
                + " for {} ms); reopened on the driver in {}", STARVED_HOST_MS, directory);
    }

    /** The one line for an external driver that is not there: stale (it was killed) or never started. */
    private static UserError noDriver(String dir, AeronSettings settings, String detail, Exception cause) {
        String stale = staleDriver(dir, settings.livenessTimeout().toMillis());
        if (stale != null) {
            return new UserError("the Aeron media driver directory " + dir + " is stale (" + stale
                    + "; clmr.worker.aeron.driver = external): its driver stopped; start it again with `clmr driver --dir "
                    + dir + "`", cause);
        }
        return new UserError("no Aeron media driver is running in " + dir + " (clmr.worker.aeron.driver = external):"
                + " start the host's driver there (`clmr driver --dir " + dir + "`), point clmr.worker.aeron.driver-dir"
                + " at it, or set clmr.worker.aeron.driver = embedded (" + detail + ")", cause);
    }

    /**
     * Starts a stand-alone media driver in {@code dir} (the one a host's processes share over IPC): shared
     * threading (one thread, backing off when idle), liveness timeouts from
     * {@link AeronSettings#livenessTimeout()}. The caller closes it. An active driver already there is a
     * {@link UserError}; a stale directory is replaced.
     */
    public static MediaDriver launchDriver(AeronSettings settings, String dir) {
        return launchDriver(settings, dir, false);
    }

    private static MediaDriver launchDriver(AeronSettings settings, String dir, boolean invoker) {
        if (Files.isDirectory(Path.of(dir))
                && CommonContext.isDriverActive(new File(dir), settings.livenessTimeout().toMillis(), ignored -> { })) {
            throw new UserError("an Aeron media driver is already active in " + dir
                    + " (clmr.worker.aeron.driver-dir): stop it, choose another directory, or set"
                    + " clmr.worker.aeron.driver = external to share it");
        }
        long liveness = settings.livenessTimeout().toNanos();
        MediaDriver.Context ctx = new MediaDriver.Context()
                .aeronDirectoryName(dir)
                .dirDeleteOnStart(true)
                .dirDeleteOnShutdown(true)
                .warnIfDirectoryExists(false)
                .threadingMode(invoker ? ThreadingMode.INVOKER : ThreadingMode.SHARED)
                .sharedIdleStrategy(new BackoffIdleStrategy(200, 50, TimeUnit.MICROSECONDS.toNanos(1),
                        settings.idleMaxPark().toNanos()))
                .timerIntervalNs(Math.min(TimeUnit.SECONDS.toNanos(1), liveness / 4))
                .clientLivenessTimeoutNs(Math.max(liveness, TimeUnit.MILLISECONDS.toNanos(STARVED_HOST_MS)))
                .imageLivenessTimeoutNs(liveness)
                .publicationConnectionTimeoutNs(liveness)
                .publicationUnblockTimeoutNs(Math.max(3 * liveness, TimeUnit.SECONDS.toNanos(15)))
                .socketRcvbufLength(settings.socketBuffer())
                .socketSndbufLength(settings.socketBuffer())
                .initialWindowLength(Math.min(settings.socketBuffer(), settings.termLength() / 2))
                .ipcTermBufferLength(settings.termLength())
                .publicationTermBufferLength(settings.termLength())
                .mtuLength(settings.mtu())
                .ipcMtuLength(settings.mtu());
        try {
            MediaDriver driver = MediaDriver.launch(ctx);
            org.clmr.protocol.security.PrivateFiles.restrictDirectory(Path.of(dir));  // #17: the umask made it 0755
            return driver;
        } catch (io.aeron.driver.exceptions.ActiveDriverException e) {
            ctx.close();
            throw new UserError("an Aeron media driver is already active in " + dir
                    + " (clmr.worker.aeron.driver-dir): stop it, choose another directory, or set"
                    + " clmr.worker.aeron.driver = external to share it", e);
        }
    }

    /**
     * How a driver directory with a CnC file but no live driver looks ("its driver's last heartbeat was
     * 12345 ms ago"), or null when there is no CnC file or its driver is alive (heartbeat within
     * {@code timeoutMs}). A stale directory is what a driver that was killed leaves behind.
     */
    public static String staleDriver(String dir, long timeoutMs) {
        File cnc = new File(dir, CncFileDescriptor.CNC_FILE);
        if (!cnc.isFile()) {
            return null;
        }
        String[] heartbeat = {null};
        boolean active = CommonContext.isDriverActive(new File(dir), timeoutMs, line -> {
            Matcher m = HEARTBEAT_AGE.matcher(line);
            if (m.find()) {
                heartbeat[0] = m.group(1);
            }
        });
        if (active) {
            return null;
        }
        return heartbeat[0] == null ? "its CnC file " + cnc + " is not readable as a driver's"
                : "its driver's last heartbeat was " + heartbeat[0] + " ms ago";
    }

    /** A new, unique driver directory under /dev/shm when it exists, else under the JVM's temp directory. */
    public static String freshDirectory() {
        Path shm = Path.of("/dev/shm");
        Path parent = Files.isDirectory(shm) && Files.isWritable(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir"));
        return parent.resolve("clmr-aeron-" + ProcessHandle.current().pid() + "-" + System.nanoTime()).toString();
    }

    /**
     * Opens the collective of {@code membership}'s generation, on a new client when the last one closed itself;
     * waits until every peer is connected.
     */
    public AeronCollective join(Membership membership) {
        reopenIfLost();
        return new AeronCollective(this, membership);
    }

    /** The settings this transport runs with. */
    public AeronSettings settings() {
        return settings;
    }

    /** The driver directory in use. */
    public String directory() {
        return directory;
    }

    /** Counters of every generation's collectives of this process. */
    public CollectiveMetrics metrics() {
        return metrics;
    }

    /** The clock the collectives' deadlines are read from. */
    NanoClock clock() {
        return clock;
    }

    Aeron aeron() {
        return aeron;
    }

    /** The embedded driver's duty cycle, or null when the driver runs elsewhere. */
    DriverDuty duty() {
        return duty;
    }

    /** Closes the client, then the embedded driver if there is one. */
    @Override
    public void close() {
        closing = true;
        CloseHelper.closeAll(aeron, duty, driver);
    }

    static String oneLine(Throwable e) {
        String m = e.getMessage();
        if (m == null) {
            return e.getClass().getSimpleName();
        }
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    static boolean isAeron(Throwable e) {
        return e instanceof AeronException;
    }
}

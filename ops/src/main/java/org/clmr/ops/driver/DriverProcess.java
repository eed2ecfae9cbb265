package org.clmr.ops.driver;

import org.clmr.ops.ClmrProcess;
import org.clmr.protocol.UserError;
import org.clmr.worker.collective.AeronTransport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A {@code clmr driver} child process in a fresh directory, for a local cluster or a benchmark whose
 * processes share one media driver over IPC: {@link #start} returns once the driver is up, and the
 * config arguments a process needs to use it are {@link #clientArgs()}. {@link #close()} stops it
 * (SIGTERM: the driver closes and removes its directory).
 */
public final class DriverProcess implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final Process process;
    private final String directory;

    private DriverProcess(Process process, String directory) {
        this.process = process;
        this.directory = directory;
    }

    /**
     * Starts {@code clmr driver --dir <fresh directory>} with {@code configArgs} ({@code --config}/{@code --set},
     * for clmr.worker.aeron), logging to {@code log}; waits until it is up.
     */
    public static DriverProcess start(List<String> configArgs, Path log) throws IOException, InterruptedException {
        String dir = AeronTransport.freshDirectory();
        List<String> args = new ArrayList<>(List.of("driver", "--dir", dir));
        args.addAll(configArgs);
        Process p = ClmrProcess.of(args).maxHeap("128m").output(log).start();
        DriverProcess d = new DriverProcess(p, dir);
        try {
            long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
            while (!(Files.exists(log) && Files.readString(log).contains(DriverCommand.UP))) {
                if (!p.isAlive()) {
                    throw new UserError("the Aeron driver process exited (" + p.exitValue() + ") while starting: "
                            + lastLine(log) + " (log " + log + ")");
                }
                if (System.nanoTime() - deadline >= 0) {
                    throw new UserError("the Aeron driver process did not start within " + START_TIMEOUT.toSeconds()
                            + " s; see " + log);
                }
                Thread.sleep(50);
            }
            return d;
        } catch (IOException | InterruptedException | RuntimeException e) {
            d.close();
            throw e;
        }
    }

    /** The driver's directory. */
    public String directory() {
        return directory;
    }

    /** {@code --set} arguments that make a clmr process use this driver over IPC. */
    public List<String> clientArgs() {
        return List.of("--set", "worker.aeron.driver=external", "--set", "worker.aeron.driver-dir=" + directory,
                "--set", "worker.aeron.transport=ipc");
    }

    /** Stops the driver (it removes its directory); kills it if it has not stopped within 10 s. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static String lastLine(Path log) throws IOException {
        if (!Files.exists(log)) {
            return "(no output)";
        }
        String[] lines = Files.readString(log).strip().split("\n");
        return lines[lines.length - 1];
    }
}

package org.clmr.ops.cluster;

import org.clmr.protocol.UserError;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The coordinator process of a local cluster, supervised by its launcher ({@link LocalCluster}). The first one
 * starts on free ports; whenever it exits while the run goes on (a crash, kill -9, the OOM killer) it is started
 * again with the same arguments on the same cluster port, which the workers have as their seed node, and the same
 * HTTP port, so Prometheus targets and {@code clmr status --coordinator} keep working. The workers replace their
 * cluster nodes, join it again and go on from the state they hold. Every start appends to the same log, and whether
 * one is up is read only from the part of the log that start wrote, never from an earlier start's lines.
 *
 * <p>It gives up ({@link GaveUp}) on a coordinator that cannot be kept up: one that exits within
 * {@link #QUICK_EXIT} of its start {@link #MAX_QUICK_EXITS} times in a row, or one that does not come up again (its
 * port was taken meanwhile, another coordinator locked the run directory). Used from the launcher's main thread.
 */
final class LocalCoordinator {
    /** An exit this soon after a start counts towards giving up. */
    static final Duration QUICK_EXIT = Duration.ofSeconds(30);
    /** Quick exits in a row after which the coordinator is not started again. */
    static final int MAX_QUICK_EXITS = 3;
    private static final Pattern NODE = Pattern.compile("coordinator node akka://clmr@([\\w.\\-]+):(\\d+) up");
    private static final Pattern HTTP = Pattern.compile("status: +http://([\\w.\\-]+:\\d+)/status");
    /** How the CLI prints a failure of {@code clmr coordinator} (a port in use, a locked run directory). */
    private static final Pattern FAILURE = Pattern.compile("(?m)^clmr coordinator: (.*)$");
    private static final int MAX_LOG_READ = 4 << 20;
    /** How a line that ends the command says what is left and what to do. */
    static final String RESUME = "; every process of the local cluster is stopped, and the same command"
            + " resumes the run";

    /** A coordinator that cannot be kept up: the command ends with this one line, after every process stopped. */
    static final class GaveUp extends UserError {
        GaveUp(String message) {
            super(message);
        }
    }

    private final LocalChildren children;
    private final Path runDir;
    private final Path log;
    private final List<String> configArgs;
    private final Duration startTimeout;
    private Process process;
    private long startedAt;
    private long logOffset;
    private String clusterHost;
    private int clusterPort;
    private String http;
    private volatile int restarts;
    private int quickExits;

    /**
     * @param configArgs   {@code --config}/{@code --set} arguments of every start (the run spec, the keys)
     * @param startTimeout how long a start may take to come up
     */
    LocalCoordinator(LocalChildren children, Path runDir, List<String> configArgs, Duration startTimeout) {
        this.children = children;
        this.runDir = runDir;
        this.log = runDir.resolve("coordinator.log");
        this.configArgs = List.copyOf(configArgs);
        this.startTimeout = startTimeout;
    }

    /** Starts the first coordinator, on free ports; {@link #awaitFirstUp} waits until it is up. */
    void start() throws IOException {
        launch(0, 0);
    }

    /**
     * Waits until the first coordinator is up.
     *
     * @throws UserError naming what happened when it exits first or is not up within the start timeout
     */
    void awaitFirstUp() throws IOException, InterruptedException {
        Optional<String> failed = awaitUp();
        if (failed.isPresent()) {
            throw new UserError("the coordinator " + failed.get());
        }
    }

    /**
     * Starts the coordinator again after its process exited, and waits until it is up. Says (one line) that it
     * does so before it starts it.
     *
     * @return false, having started nothing, when the launcher is stopping (it stopped the coordinator itself)
     * @throws GaveUp when the coordinator cannot be kept up
     */
    boolean restart(Consumer<String> say) throws IOException, InterruptedException {
        if (children.stopping()) {
            return false;
        }
        boolean quick = System.nanoTime() - startedAt < QUICK_EXIT.toNanos();
        quickExits = quick ? quickExits + 1 : 0;
        String exited = "the coordinator (PID " + process.pid() + ") exited with code " + process.exitValue();
        if (quickExits >= MAX_QUICK_EXITS) {
            throw new GaveUp(exited + lastWords() + "; it exited within " + QUICK_EXIT.toSeconds() + " s of its start "
                    + MAX_QUICK_EXITS + " times in a row, so it is not started again (see " + log + ")" + RESUME);
        }
        say.accept(exited + "; starting it again on akka://clmr@" + clusterHost + ":" + clusterPort + " (log: " + log
                + ")");
        try {
            launch(clusterPort, Integer.parseInt(http.substring(http.lastIndexOf(':') + 1)));
        } catch (UserError e) {
            if (children.stopping()) {
                return false;
            }
            throw e;
        }
        restarts++;
        Optional<String> failed = awaitUp();
        if (failed.isPresent()) {
            throw new GaveUp("the coordinator could not be started again: it " + failed.get() + RESUME);
        }
        return true;
    }

    /** Whether the coordinator's process is running. */
    boolean alive() {
        return process.isAlive();
    }

    /** The running coordinator's process id. */
    long pid() {
        return process.pid();
    }

    /** The cluster address the workers join (HOST:PORT), once up. */
    String seed() {
        return clusterHost + ":" + clusterPort;
    }

    /** The HTTP endpoint (HOST:PORT), once up; the same for every start. */
    String http() {
        return http;
    }

    /** The log every start appends to. */
    Path log() {
        return log;
    }

    /** How many times the coordinator was started again; any thread. */
    int restarts() {
        return restarts;
    }

    private void launch(int cluster, int httpPort) throws IOException {
        logOffset = Files.exists(log) ? Files.size(log) : 0;
        List<String> args = new ArrayList<>(List.of("coordinator", "--run-dir", runDir.toString(),
                "--set", "coordinator.cluster.port=" + cluster, "--set", "coordinator.http.port=" + httpPort));
        args.addAll(configArgs);
        process = children.start(args, log);
        startedAt = System.nanoTime();
    }

    /**
     * Polls this start's part of the log until it names the cluster node and the HTTP endpoint; what went wrong
     * (for "the coordinator ..."), or empty once up.
     */
    private Optional<String> awaitUp() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + startTimeout.toNanos();
        while (true) {
            String part = newPart();
            Matcher node = NODE.matcher(part);
            Matcher endpoint = HTTP.matcher(part);
            if (node.find() && endpoint.find()) {
                clusterHost = node.group(1);
                clusterPort = Integer.parseInt(node.group(2));
                http = endpoint.group(1);
                return Optional.empty();
            }
            if (!process.isAlive()) {
                return Optional.of("(PID " + process.pid() + ") exited with code " + process.exitValue()
                        + " while starting" + lastWords() + "; see " + log);
            }
            if (System.nanoTime() - deadline > 0) {
                return Optional.of("(PID " + process.pid() + ") was not up within " + startTimeout.toSeconds()
                        + " s; see " + log);
            }
            Thread.sleep(200);
        }
    }

    /** The failure the coordinator printed in this start's part of the log, as " (its error: ...)", or "". */
    private String lastWords() throws IOException {
        Matcher m = FAILURE.matcher(newPart());
        String last = null;
        while (m.find()) {
            last = m.group(1);
        }
        return last == null ? "" : " (its error: " + last.strip() + ")";
    }

    /** What this start wrote to the log (the log is appended to by every start). */
    private String newPart() throws IOException {
        if (!Files.exists(log)) {
            return "";
        }
        try (InputStream in = Files.newInputStream(log)) {
            in.skipNBytes(Math.min(logOffset, Files.size(log)));
            return new String(in.readNBytes(MAX_LOG_READ), StandardCharsets.UTF_8);
        }
    }
}

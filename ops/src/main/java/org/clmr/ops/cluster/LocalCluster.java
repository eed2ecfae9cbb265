package org.clmr.ops.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import org.clmr.coordinator.CoordinatorSettings;
import org.clmr.data.DataSettings;
import org.clmr.data.dataset.PackedDataset;
import org.clmr.data.dataset.PretrainView;
import org.clmr.ops.driver.DriverProcess;
import org.clmr.protocol.UserError;
import org.clmr.protocol.security.PrivateFiles;
import org.clmr.protocol.security.ThrowawayKeys;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A cluster on this machine for {@code clmr train --workers N}: a coordinator process (H2 in the run
 * directory, ephemeral cluster and HTTP ports), one Aeron media driver ({@code clmr driver}, in a fresh
 * directory) that the N worker processes share over {@code aeron:ipc}, and the workers, each logging to a
 * file in the run directory (the logs of the run before are kept as {@code *.log.1}); the run ({@value #RUN_ID}) is
 * started over the coordinator's HTTP endpoint and followed there on one progress line until it completes.
 *
 * <p>The same command resumes: a run the coordinator recovers from its journal goes on (a paused one is resumed),
 * a stopped one is started again from its newest checkpoint, and a finished one is reported done. Every process
 * is stopped at the end, whatever happens: the children watch this process ({@code ParentWatch}), and on SIGINT
 * or SIGTERM this process first drains the workers (the last member checkpoints the step it holds), within
 * {@link #DRAIN_TIMEOUT}. While it runs, {@code RUN_DIR/prometheus/targets.json} lists the processes' metrics
 * endpoints ({@link PrometheusTargets}).
 *
 * <p>It supervises its coordinator ({@link LocalCoordinator}): one that exits while the run goes on (a crash, kill -9,
 * the OOM killer) is started again, with one line saying so, on the same cluster and HTTP ports; the workers join it
 * again and the run goes on from the state they hold. A coordinator that cannot be kept up, or whose process runs
 * without answering for {@link #UNREACHABLE_LIMIT}, ends the command with one line, every process stopped; the same
 * command then resumes the run. A status poll that fails while the coordinator's process runs is asked again.
 *
 * <p>It runs secure, as a real cluster does: throw-away keys in {@code RUN_DIR/keys} ({@link ThrowawayKeys}) give
 * every process the same node certificate (Artery on mutual TLS) and the control token, which this launcher sends
 * with its own requests. Rank 0 hands checkpoints to the coordinator over the cluster; only the coordinator opens
 * its H2 file.
 */
public final class LocalCluster {
    /** The run's id in the run directory's coordinator (one run per run directory, as for {@code clmr train}). */
    public static final String RUN_ID = "train";
    /** How long a SIGINT or SIGTERM waits for the workers to drain before everything is stopped. */
    static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(30);
    /** How long the coordinator's process may run without answering a status poll before the command ends. */
    static final Duration UNREACHABLE_LIMIT = Duration.ofSeconds(60);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);

    private final Path runDir;
    private final Path dataset;
    private final List<String> configArgs;
    private final PrintWriter out;
    private final LocalChildren children = new LocalChildren();
    private final Thread onSignal = new Thread(this::drainThenStop, "clmr-local-cluster-stop");
    private volatile boolean signalled;
    private volatile LocalCoordinator coordinator;

    /**
     * @param configArgs {@code --config}/{@code --set} arguments every process gets (the same run spec)
     */
    public LocalCluster(Path runDir, Path dataset, List<String> configArgs, PrintWriter out) {
        this.runDir = runDir.toAbsolutePath();
        this.dataset = dataset.toAbsolutePath();
        this.configArgs = List.copyOf(configArgs);
        this.out = out;
    }

    /**
     * Runs the whole run with {@code workers} worker processes; returns the coordinator's final phase reason. Runs on
     * the calling thread, once per instance.
     */
    public String run(int workers, DataSettings data) throws IOException, InterruptedException {
        String hash;
        int tracks;
        try (PackedDataset ds = PackedDataset.open(dataset)) {
            hash = ds.contentHash();
            tracks = PretrainView.of(ds, data.concatSongs()).size();
        }
        PrivateFiles.createDirectory(runDir);
        keepPreviousLogs();
        ThrowawayKeys keys = ThrowawayKeys.inRunDir(runDir);
        List<String> secure = new ArrayList<>(configArgs);
        keys.settingOverrides().forEach(o -> secure.addAll(List.of("--set", o)));
        coordinator = new LocalCoordinator(children, runDir, secure, START_TIMEOUT);
        LocalEndpoint endpoint = new LocalEndpoint(coordinator, keys.token(), START_TIMEOUT);
        DriverProcess driver = null;
        Runtime.getRuntime().addShutdownHook(onSignal);
        try {
            coordinator.start();
            // the driver needs nothing from the coordinator: its JVM starts while the coordinator's does
            driver = DriverProcess.start(configArgs, runDir.resolve("driver.log"));
            coordinator.awaitFirstUp();
            PrometheusTargets.write(runDir, coordinator.http(), List.of());
            List<Process> ws = startWorkers(workers, coordinator.seed(), secure, driver);
            PrometheusTargets.write(runDir, coordinator.http(), awaitWorkers(ws));
            String done = startOrResume(endpoint, hash, tracks);
            out.printf("local cluster: coordinator %s (http %s), %d workers, logs in %s%n", coordinator.seed(),
                    coordinator.http(), workers, runDir);
            out.flush();
            if (done != null) {
                return done;
            }
            String reason = follow(coordinator, endpoint, ws);
            for (Process w : ws) {
                w.waitFor(60, TimeUnit.SECONDS);  // the workers leave the cluster on the coordinator's Stop
            }
            return reason;
        } catch (LocalCoordinator.GaveUp e) {
            awaitSignalledStop();
            children.stopAtOnce(Duration.ofSeconds(10));
            throw e;
        } finally {
            awaitSignalledStop();
            reportRestarts();
            PrometheusTargets.clear(runDir);
            children.stopAll(Duration.ofSeconds(30));
            if (driver != null) {
                driver.close();
            }
            try {
                Runtime.getRuntime().removeShutdownHook(onSignal);
            } catch (IllegalStateException e) {
                // this process is shutting down: the hook is running
            }
        }
    }

    /** The run's id. */
    public String runId() {
        return RUN_ID;
    }

    /**
     * The coordinator's H2 database in the run directory: journal and committed checkpoints. Open it only once the
     * cluster has stopped: the coordinator process is the only one that opens it while it runs.
     */
    public String databaseUrl() {
        return CoordinatorSettings.DatabaseSettings.defaultH2Url(runDir);
    }

    private List<Process> startWorkers(int workers, String seed, List<String> secure, DriverProcess driver) {
        List<Process> ws = new ArrayList<>();
        for (int i = 0; i < workers; i++) {
            List<String> w = new ArrayList<>(List.of("worker", "--seed-nodes", seed, "--dataset", dataset.toString()));
            w.addAll(secure);
            w.addAll(driver.clientArgs());
            ws.add(children.startWorker(w, workerLog(i)));
        }
        return ws;
    }

    /** Waits until every worker is up; their metrics endpoints. */
    private List<String> awaitWorkers(List<Process> ws) throws IOException, InterruptedException {
        List<String> metrics = new ArrayList<>();
        for (int i = 0; i < ws.size(); i++) {
            await(workerLog(i), Pattern.compile("worker \\S+ up: aeron"), ws.get(i));
            metrics.add(await(workerLog(i), PrometheusTargets.WORKER_METRICS, ws.get(i)));
        }
        return metrics;
    }

    private Path workerLog(int i) {
        return runDir.resolve("worker-" + i + ".log");
    }

    /**
     * Starts the run, or goes on with the one the coordinator recovered; returns the reason of a run that had
     * finished already (nothing to do), else null.
     */
    private String startOrResume(LocalEndpoint endpoint, String hash, int tracks) throws InterruptedException {
        JsonNode s = endpoint.status();
        String phase = s.path("phase").asText();
        String start = "/control/start?run-id=" + RUN_ID + "&dataset-hash=" + hash + "&tracks=" + tracks;
        if (phase.equals("IDLE")) {
            endpoint.post(start);
        } else if (phase.equals("COMPLETED") && s.path("phaseReason").asText().startsWith("finished")) {
            out.println("run " + RUN_ID + " in " + runDir + " is done already (" + s.path("phaseReason").asText()
                    + "); give another --run-dir to train again");
            return s.path("phaseReason").asText();
        } else if (phase.equals("COMPLETED")) {
            endpoint.post(start + "&if-exists=resume");
            out.println("resuming run " + RUN_ID + " in " + runDir + " from its newest checkpoint");
        } else {
            out.println("resuming run " + RUN_ID + " in " + runDir + " (" + phase + ": " + s.path("phaseReason").asText()
                    + ")");
            if (phase.equals("PAUSED")) {
                endpoint.post("/control/resume");
            }
        }
        return null;
    }

    /**
     * What SIGINT or SIGTERM to this process does (a shutdown hook): the workers drain (SIGTERM: each leaves at its
     * next plan boundary, the last one after a checkpoint of the step it holds), then every process stops. From
     * then on nothing is started, a coordinator that exits is not started again, and the main thread leaves the
     * stopping to this hook ({@link #awaitSignalledStop}).
     */
    private void drainThenStop() {
        signalled = true;
        children.drainThenStop(DRAIN_TIMEOUT);
        reportRestarts();
    }

    /** The last line of a run whose coordinator was started again: how many times. */
    private void reportRestarts() {
        int n = coordinator == null ? 0 : coordinator.restarts();
        if (n > 0) {
            out.printf("local cluster: the coordinator was started again %d time%s%n", n, n == 1 ? "" : "s");
            out.flush();
        }
    }

    /**
     * On the main thread, once a signal stops the cluster: waits for the shutdown hook, so that the main thread's
     * own end does not stop the coordinator while the workers drain into it (the JVM ends with the hook).
     */
    private void awaitSignalledStop() throws InterruptedException {
        if (signalled) {
            onSignal.join();
        }
    }

    /** The logs of the run before this one are kept as {@code NAME.log.1}, so that only this run's lines are read. */
    private void keepPreviousLogs() throws IOException {
        try (var logs = Files.newDirectoryStream(runDir, "*.log")) {
            for (Path log : logs) {
                Files.move(log, log.resolveSibling(log.getFileName() + ".1"), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    /**
     * One progress line per status poll until the run completes (or every worker is gone). A coordinator that exits
     * is started again ({@link LocalCoordinator#restart}); one that runs but does not answer is asked again, for up
     * to {@link #UNREACHABLE_LIMIT}.
     */
    private String follow(LocalCoordinator coordinator, LocalEndpoint endpoint, List<Process> workers)
            throws IOException, InterruptedException {
        boolean terminal = System.console() != null;
        String pausedFor = "";
        long unreachableSince = 0;
        boolean answering = true;
        while (true) {
            if (!coordinator.alive()) {
                if (!coordinator.restart(line -> say(line, terminal))) {
                    awaitSignalledStop();
                    throw new UserError("the local cluster was stopped" + LocalCoordinator.RESUME);
                }
                answering = true;
                continue;
            }
            JsonNode s;
            try {
                s = endpoint.poll();
                answering = true;
            } catch (IOException e) {
                if (answering) {
                    unreachableSince = System.nanoTime();
                    answering = false;
                }
                if (coordinator.alive()) {  // else it is started again at the top of the loop
                    if (System.nanoTime() - unreachableSince > UNREACHABLE_LIMIT.toNanos()) {
                        throw new LocalCoordinator.GaveUp(endpoint.unreachable(e, "has not answered for "
                                + UNREACHABLE_LIMIT.toSeconds() + " s").getMessage());
                    }
                    Thread.sleep(1000);
                }
                continue;
            }
            if (!s.has("phase")) {  // the coordinator did not answer in time (busy recovering): ask again
                Thread.sleep(1000);
                continue;
            }
            if (s.get("phase").asText().equals("PAUSED") && !s.get("phaseReason").asText().equals(pausedFor)) {
                pausedFor = s.get("phaseReason").asText();
                out.printf("%spaused: %s (clmr control resume --coordinator %s)%n", terminal ? "\n" : "", pausedFor,
                        coordinator.http());
            }
            printProgress(s, terminal);
            if (s.get("phase").asText().equals("COMPLETED")) {
                out.println();
                return s.get("phaseReason").asText();
            }
            if (workers.stream().noneMatch(Process::isAlive)) {
                throw new UserError("every worker process stopped before the run completed; see " + runDir + "/worker-*.log");
            }
            Thread.sleep(1000);
        }
    }

    private void printProgress(JsonNode s, boolean terminal) {
        long step = s.get("step").asLong();
        long total = Math.max(1, s.get("totalSteps").asLong());
        int width = 30;
        int done = (int) Math.min(width, width * step / total);
        out.printf(Locale.ROOT, "%s[%s%s] %s generation %d, %d members, step %d/%d%s", terminal ? "\r" : "",
                "=".repeat(done), " ".repeat(width - done), s.get("phase").asText(), s.get("generation").asLong(),
                s.get("members").size(), step, total, terminal ? "   " : "\n");
        out.flush();
    }

    /** A line of its own about the cluster, below the progress bar on a terminal. */
    private void say(String line, boolean terminal) {
        out.println((terminal ? "\n" : "") + "local cluster: " + line);
        out.flush();
    }

    private String await(Path log, Pattern pattern, Process p) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(log)) {
                Matcher m = pattern.matcher(Files.readString(log));
                if (m.find()) {
                    return m.groupCount() > 0 ? m.group(1) : m.group();
                }
            }
            if (!p.isAlive()) {
                throw new UserError("a process of the local cluster exited (" + p.exitValue() + ") while starting; see " + log);
            }
            Thread.sleep(200);
        }
        throw new UserError("a process of the local cluster did not start within " + START_TIMEOUT.toSeconds()
                + " s; see " + log);
    }
}

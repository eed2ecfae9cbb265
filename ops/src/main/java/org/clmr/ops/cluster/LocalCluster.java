package org.clmr.ops.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.clmr.coordinator.CoordinatorSettings;
import org.clmr.data.DataSettings;
import org.clmr.data.dataset.PackedDataset;
import org.clmr.data.dataset.PretrainView;
import org.clmr.ops.ClmrProcess;
import org.clmr.ops.driver.DriverProcess;
import org.clmr.protocol.UserError;
import org.clmr.protocol.security.ControlToken;
import org.clmr.protocol.security.PrivateFiles;
import org.clmr.protocol.security.ThrowawayKeys;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
    private static final Pattern NODE = Pattern.compile("coordinator node akka://clmr@([\\w.\\-]+:\\d+) up");
    private static final Pattern HTTP = Pattern.compile("status: +http://([\\w.\\-]+:\\d+)/status");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(120);

    private final Path runDir;
    private final Path dataset;
    private final List<String> configArgs;
    private final PrintWriter out;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final List<Process> processes = new ArrayList<>();
    private final List<Process> workerProcesses = new ArrayList<>();
    private ControlToken token;

    /**
     * @param configArgs {@code --config}/{@code --set} arguments every process gets (the same run spec)
     */
    public LocalCluster(Path runDir, Path dataset, List<String> configArgs, PrintWriter out) {
        this.runDir = runDir.toAbsolutePath();
        this.dataset = dataset.toAbsolutePath();
        this.configArgs = List.copyOf(configArgs);
        this.out = out;
    }

    /** Runs the whole run with {@code workers} worker processes; returns the coordinator's final phase reason. */
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
        token = keys.token();
        List<String> secure = new ArrayList<>(configArgs);
        keys.settingOverrides().forEach(o -> secure.addAll(List.of("--set", o)));
        DriverProcess driver = null;
        Thread onSignal = new Thread(this::drainThenStop, "clmr-local-cluster-stop");
        Runtime.getRuntime().addShutdownHook(onSignal);
        try {
            List<String> c = new ArrayList<>(List.of("coordinator", "--run-dir", runDir.toString(),
                    "--set", "coordinator.cluster.port=0", "--set", "coordinator.http.port=0"));
            c.addAll(secure);
            Path coordinatorLog = runDir.resolve("coordinator.log");
            Process coordinator = start(c, coordinatorLog);
            // the driver needs nothing from the coordinator: its JVM starts while the coordinator's does
            driver = DriverProcess.start(configArgs, runDir.resolve("driver.log"));
            String seed = await(coordinatorLog, NODE, coordinator);
            String http = await(coordinatorLog, HTTP, coordinator);
            PrometheusTargets.write(runDir, http, List.of());
            List<Process> ws = new ArrayList<>();
            for (int i = 0; i < workers; i++) {
                List<String> w = new ArrayList<>(List.of("worker", "--seed-nodes", seed, "--dataset", dataset.toString()));
                w.addAll(secure);
                w.addAll(driver.clientArgs());
                ws.add(start(w, runDir.resolve("worker-" + i + ".log")));
            }
            synchronized (processes) {
                workerProcesses.addAll(ws);
            }
            List<String> metrics = new ArrayList<>();
            for (int i = 0; i < workers; i++) {
                await(runDir.resolve("worker-" + i + ".log"), Pattern.compile("worker \\S+ up: aeron"), ws.get(i));
                metrics.add(await(runDir.resolve("worker-" + i + ".log"), PrometheusTargets.WORKER_METRICS, ws.get(i)));
            }
            PrometheusTargets.write(runDir, http, metrics);
            String done = startOrResume(http, hash, tracks);
            out.printf("local cluster: coordinator %s (http %s), %d workers, logs in %s%n", seed, http, workers, runDir);
            out.flush();
            if (done != null) {
                return done;
            }
            String reason = follow(http, ws);
            for (Process w : ws) {
                w.waitFor(60, TimeUnit.SECONDS);  // the workers leave the cluster on the coordinator's Stop
            }
            return reason;
        } finally {
            PrometheusTargets.clear(runDir);
            stopAll(Duration.ofSeconds(30));
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
     * Starts the run, or goes on with the one the coordinator recovered; returns the reason of a run that had
     * finished already (nothing to do), else null.
     */
    private String startOrResume(String http, String hash, int tracks) throws IOException, InterruptedException {
        JsonNode s = status(http);
        String phase = s.path("phase").asText();
        String start = "/control/start?run-id=" + RUN_ID + "&dataset-hash=" + hash + "&tracks=" + tracks;
        if (phase.equals("IDLE")) {
            post(http, start);
        } else if (phase.equals("COMPLETED") && s.path("phaseReason").asText().startsWith("finished")) {
            out.println("run " + RUN_ID + " in " + runDir + " is done already (" + s.path("phaseReason").asText()
                    + "); give another --run-dir to train again");
            return s.path("phaseReason").asText();
        } else if (phase.equals("COMPLETED")) {
            post(http, start + "&if-exists=resume");
            out.println("resuming run " + RUN_ID + " in " + runDir + " from its newest checkpoint");
        } else {
            out.println("resuming run " + RUN_ID + " in " + runDir + " (" + phase + ": " + s.path("phaseReason").asText()
                    + ")");
            if (phase.equals("PAUSED")) {
                post(http, "/control/resume");
            }
        }
        return null;
    }

    /**
     * What SIGINT or SIGTERM to this process does (a shutdown hook): the workers drain (SIGTERM: each leaves at its
     * next plan boundary, the last one after a checkpoint of the step it holds), then every process stops.
     */
    private void drainThenStop() {
        List<Process> ws;
        synchronized (processes) {
            ws = List.copyOf(workerProcesses);
        }
        if (ws.stream().anyMatch(Process::isAlive)) {
            System.err.println("clmr train: stopping the local cluster: draining the workers (up to "
                    + DRAIN_TIMEOUT.toSeconds() + " s; the last one checkpoints the step it holds)");
            ws.forEach(p -> p.toHandle().destroy());
            long deadline = System.nanoTime() + DRAIN_TIMEOUT.toNanos();
            for (Process p : ws) {
                try {
                    p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        stopAll(Duration.ofSeconds(10));
    }

    /** SIGTERM to every process still alive, SIGKILL to those still alive after {@code grace}. */
    private void stopAll(Duration grace) {
        List<Process> all;
        synchronized (processes) {
            all = List.copyOf(processes);
        }
        all.forEach(Process::destroy);
        long deadline = System.nanoTime() + grace.toNanos();
        for (Process p : all) {
            try {
                if (!p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
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
     * The coordinator's H2 database in the run directory: journal and committed checkpoints. Open it only once the
     * cluster has stopped: the coordinator process is the only one that opens it while it runs.
     */
    public String databaseUrl() {
        return CoordinatorSettings.DatabaseSettings.defaultH2Url(runDir);
    }

    private Process start(List<String> args, Path log) {
        Process p = ClmrProcess.of(args).output(log).start();
        synchronized (processes) {
            processes.add(p);
        }
        return p;
    }

    private JsonNode status(String http) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            JsonNode s = new ObjectMapper().readTree(client.send(HttpRequest.newBuilder(URI.create("http://" + http
                    + "/status")).GET().build(), HttpResponse.BodyHandlers.ofString()).body());
            if (s.has("phase") || System.nanoTime() > deadline) {
                return s;
            }
            Thread.sleep(500);  // the coordinator is still recovering its journal
        }
    }

    /** One progress line per status poll until the run completes (or every worker is gone). */
    private String follow(String http, List<Process> workers) throws IOException, InterruptedException {
        ObjectMapper json = new ObjectMapper();
        boolean terminal = System.console() != null;
        String pausedFor = "";
        while (true) {
            JsonNode s = json.readTree(client.send(request(http, "/status").GET().build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            if (!s.has("phase")) {  // the coordinator did not answer in time (busy recovering): ask again
                Thread.sleep(1000);
                continue;
            }
            if (s.get("phase").asText().equals("PAUSED") && !s.get("phaseReason").asText().equals(pausedFor)) {
                pausedFor = s.get("phaseReason").asText();
                out.printf("%spaused: %s (clmr control resume --coordinator %s)%n", terminal ? "\n" : "", pausedFor, http);
            }
            long step = s.get("step").asLong();
            long total = Math.max(1, s.get("totalSteps").asLong());
            int width = 30;
            int done = (int) Math.min(width, width * step / total);
            out.printf(Locale.ROOT, "%s[%s%s] %s generation %d, %d members, step %d/%d%s", terminal ? "\r" : "",
                    "=".repeat(done), " ".repeat(width - done), s.get("phase").asText(), s.get("generation").asLong(),
                    s.get("members").size(), step, total, terminal ? "   " : "\n");
            out.flush();
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

    /** Posts an operator command; a 503 (the coordinator is still recovering its journal) is tried again. */
    private void post(String http, String path) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            HttpResponse<String> r = client.send(request(http, path).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200) {
                return;
            }
            if (r.statusCode() != 503 || System.nanoTime() > deadline) {
                throw new UserError("the local coordinator refused " + path + ": " + r.body());
            }
            Thread.sleep(500);
        }
    }

    /** A request to the coordinator's endpoint with the control token. */
    private HttpRequest.Builder request(String http, String path) {
        return HttpRequest.newBuilder(URI.create("http://" + http + path)).header("Authorization", token.authorization());
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

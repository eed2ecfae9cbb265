package org.clmr.ops.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.clmr.data.dataset.PackedDataset;
import org.clmr.data.dataset.PretrainView;
import org.clmr.data.generate.GeneratedSet;
import org.clmr.ops.Clmr;
import org.clmr.ops.cluster.ClusterLogs.StepLine;
import org.clmr.protocol.process.JavaProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Failures of a running cluster with real processes (issue 10), in one run of the tiny preset so the
 * processes are started once: a coordinator JVM and three worker JVMs, then
 * <ol>
 *   <li>SIGKILL of a worker while steps run: the survivors' collective names it silent, the coordinator
 *       starts a generation of the two from their own state, and they go on without repeating or skipping
 *       a step;</li>
 *   <li>SIGKILL of the coordinator, started again on the same database and cluster address: told so by the new
 *       incarnation, the workers replace their cluster nodes in-process, join it again and register with the
 *       state they hold, and
 *       the run goes on from that state (no step lost, although it is newer than the last checkpoint);</li>
 *   <li>SIGKILL of every worker, two new ones started: they resume from the last committed checkpoint;</li>
 * </ol>
 * and the run ends at its planned step count with both final workers holding the same weights. The
 * recovery times (kill to the first step completed after it) are printed.
 */
@Timeout(value = 540, unit = TimeUnit.SECONDS)
class RecoveryClusterTest {
    private static final Pattern NODE = Pattern.compile("coordinator node akka://clmr@([\\d.]+):(\\d+) up");
    private static final Pattern ADOPTED = Pattern.compile("generation (\\d+): rank \\d+ of \\d+ from (.*)");
    private static final Duration DEADLINE = Duration.ofSeconds(180);
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int BATCH = 6;
    private static final List<String> COMMON = List.of("--set", "run.model.preset=tiny",
            "--set", "run.model.projection-dim=16", "--set", "run.global-batch=" + BATCH, "--set", "run.epochs=6",
            "--set", "run.checkpoint.every-steps=4", "--set", "worker.threads=1",
            "--set", "coordinator.cluster.down-unreachable-after=3s");

    private final List<Process> all = new ArrayList<>();
    private Path dir;
    private Path dataset;
    private Path runDir;
    private ClusterKeys keys;
    private String http;
    private String seed;
    private int workerCount;

    @AfterEach
    void stopAll() {
        all.forEach(Process::destroyForcibly);
    }

    @Test
    void shouldSurviveAWorkerKilledMidStepACoordinatorRestartAndTheLossOfEveryWorker() throws Exception {
        dir = Files.createTempDirectory(Files.createDirectories(Path.of("target")), "clmr-recovery-").toAbsolutePath();
        dataset = dir.resolve("dataset");
        GeneratedSet.write(dataset, 64, 11, 22050, 1.0, 2, false, Duration.ofSeconds(60));
        String hash;
        int items;
        try (PackedDataset ds = PackedDataset.open(dataset)) {
            hash = ds.contentHash();
            items = PretrainView.of(ds, false).size();
        }
        long total = (long) (items / BATCH) * 6;
        runDir = dir.resolve("run");
        keys = ClusterKeys.in(runDir);
        Process coordinator = startCoordinator("0", "coordinator-0.log");
        List<Process> workers = new ArrayList<>(List.of(startWorker(), startWorker(), startWorker()));
        for (int i = 0; i < 3; i++) {
            ClusterLogs.await(workerLog(i), Pattern.compile("worker \\S+ up: aeron"), workers.get(i), DEADLINE);
        }
        post("/control/start?run-id=recovery&dataset-hash=" + hash + "&tracks=" + items);
        JsonNode three = awaitStatus("3 members training", s -> s.get("members").size() == 3
                && minMemberStep(s) > s.get("committedStep").asLong());

        // 1. a worker dies mid-step
        long killedAt = System.nanoTime();
        JsonNode before = status();
        workers.get(2).destroyForcibly();
        assertTrue(workers.get(2).waitFor(10, TimeUnit.SECONDS));
        long stepAtKill = before.get("step").asLong();
        JsonNode afterLoss = awaitStatus("the survivors' first step after the kill", s ->
                s.get("generation").asLong() > three.get("generation").asLong() && s.get("members").size() == 2
                        && s.get("step").asLong() > stepAtKill);
        double workerLossSeconds = (System.nanoTime() - killedAt) / 1e9;
        assertTrue(Files.readString(workerLog(0)).contains("abandoned") || Files.readString(workerLog(1)).contains("abandoned"),
                "the kill interrupted a step in progress");
        assertTrue(afterLoss.get("step").asLong() < total, "the run was still going: " + afterLoss);

        // 2. the coordinator dies and comes back on the same database and address
        JsonNode beforeRestart = status();
        long restartAt = System.nanoTime();
        coordinator.destroyForcibly();
        assertTrue(coordinator.waitFor(10, TimeUnit.SECONDS));
        long heldAtKill = maxStep(List.of(workerLog(0), workerLog(1)));
        Process coordinator2 = startCoordinator(seed.substring(seed.indexOf(':') + 1), "coordinator-1.log");
        JsonNode resumed = awaitStatus("the first step after the coordinator restart", s ->
                s.get("phase").asText().equals("RUNNING")
                        && s.get("generation").asLong() > beforeRestart.get("generation").asLong()
                        && s.get("members").size() == 2 && s.get("step").asLong() > s.get("committedStep").asLong());
        double coordinatorRestartSeconds = (System.nanoTime() - restartAt) / 1e9;
        assertTrue(resumed.get("committedStep").asLong() >= heldAtKill, "the new generation starts from the workers'"
                + " state of step " + heldAtKill + " or newer, not from an older checkpoint: " + resumed);
        for (int i = 0; i < 2; i++) {
            assertTrue(workers.get(i).isAlive(), "worker " + i + " survived the coordinator restart");
            assertTrue(Files.readString(workerLog(i)).contains("joining"), "worker " + i + " replaced its cluster node");
            assertTrue(Files.readString(workerLog(i)).contains("restarted (a new incarnation told this worker)"),
                    "worker " + i + " replaced it on the restarted coordinator's notice");
            ClusterLogs.assertContiguous(ClusterLogs.steps(workerLog(i)), "worker " + i);
        }

        // 3. every worker dies; new ones resume from the last committed checkpoint
        JsonNode ck = awaitStatus("a checkpoint committed after the restart", s -> !s.get("lastCheckpoint").isNull()
                && s.get("lastCheckpoint").get("step").asLong() > 0);
        long checkpointStep = ck.get("lastCheckpoint").get("step").asLong();
        workers.get(0).destroyForcibly();
        workers.get(1).destroyForcibly();
        long lastBeforeLoss = maxStep(List.of(workerLog(0), workerLog(1)));
        List<Process> fresh = List.of(startWorker(), startWorker());
        JsonNode finished = awaitStatus("the run's end", s -> s.get("phase").asText().equals("COMPLETED"));
        assertEquals(total, finished.get("step").asLong(), finished.toString());
        long resumedFrom = -1;
        List<String> fingerprints = new ArrayList<>();
        for (int i = 3; i < 5; i++) {
            assertTrue(fresh.get(i - 3).waitFor(60, TimeUnit.SECONDS), "new worker " + i + " ended");
            Matcher m = ADOPTED.matcher(Files.readString(workerLog(i)));
            assertTrue(m.find(), Files.readString(workerLog(i)));
            if (m.group(2).startsWith("checkpoint of step ")) {
                resumedFrom = Long.parseLong(m.group(2).substring("checkpoint of step ".length()).split(" ")[0]);
            }
            List<StepLine> steps = ClusterLogs.steps(workerLog(i));
            assertEquals(total, steps.get(steps.size() - 1).step(), "new worker " + i + " trained to the end");
            ClusterLogs.assertContiguous(steps, "new worker " + i);
            fingerprints.add(steps.get(steps.size() - 1).fingerprint());
        }
        assertTrue(resumedFrom >= checkpointStep && resumedFrom <= lastBeforeLoss,
                "the new workers resume from the last committed checkpoint (step " + checkpointStep + ".."
                        + lastBeforeLoss + "), not from " + resumedFrom);
        assertEquals(fingerprints.get(0), fingerprints.get(1), "both workers end with the same weights");
        assertTrue(coordinator2.isAlive());
        System.out.printf(Locale.ROOT, "recovery: worker killed mid-step -> survivors' next step %.1f s;"
                + " coordinator killed and restarted -> next step %.1f s (tiny preset, 3 then 2 workers)%n",
                workerLossSeconds, coordinatorRestartSeconds);
    }

    private Process startCoordinator(String port, String logName) throws Exception {
        List<String> args = new ArrayList<>(List.of("coordinator", "--run-dir", runDir.toString(),
                "--set", "coordinator.cluster.port=" + port, "--set", "coordinator.http.port=0",
                "--set", "coordinator.formation-delay=2s"));
        args.addAll(COMMON);
        args.addAll(keys.args());
        Path log = dir.resolve(logName);
        Process p = JavaProcess.of(Clmr.class).args(args).maxHeap("512m").output(log).start();
        all.add(p);
        Matcher node = ClusterLogs.await(log, NODE, p, DEADLINE);
        seed = node.group(1) + ":" + node.group(2);
        http = ClusterLogs.await(log, ClusterLogs.HTTP, p, DEADLINE).group(1);
        return p;
    }

    private Process startWorker() {
        List<String> args = new ArrayList<>(List.of("worker", "--seed-nodes", seed, "--dataset", dataset.toString(),
                "--set", "worker.cluster.repeat-interval=500ms",
                // neither the workers' watch nor their Split Brain Resolver (leader once the coordinator is gone)
                // replaces a node within the test: the restarted coordinator's notice does (CoordinatorRestarted)
                "--set", "worker.cluster.coordinator-lost-after=60s", "--set", "worker.cluster.down-unreachable-after=60s",
                "--set", "worker.aeron.connect-timeout=5s", "--set", "worker.aeron.liveness-timeout=2s"));
        args.addAll(COMMON);
        args.addAll(keys.args());
        Process p = JavaProcess.of(Clmr.class).args(args).maxHeap("768m").output(workerLog(workerCount++)).start();
        all.add(p);
        return p;
    }

    private Path workerLog(int i) {
        return dir.resolve("worker-" + i + ".log");
    }

    private JsonNode status() throws IOException, InterruptedException {
        return JSON.readTree(CLIENT.send(keys.request("http://" + http + "/status")
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString()).body());
    }

    /** Polls the coordinator's status until it satisfies {@code done}. */
    private JsonNode awaitStatus(String what, Predicate<JsonNode> done) throws Exception {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            try {
                last = status();
                if (last.has("phase") && done.test(last)) {
                    return last;
                }
            } catch (IOException e) {
                last = null;  // the coordinator is (re)starting
            }
            Thread.sleep(100);
        }
        fail("no " + what + " within " + DEADLINE.toSeconds() + " s; last status " + last + "; logs in " + dir);
        return null;
    }

    /** Posts an operator command, again while the coordinator is still recovering (503) on a loaded machine. */
    private void post(String path) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (true) {
            HttpResponse<String> r = CLIENT.send(keys.request("http://" + http + path)
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 503 || System.nanoTime() > deadline) {
                assertEquals(200, r.statusCode(), path + ": " + r.body());
                return;
            }
            Thread.sleep(500);
        }
    }

    /** The lowest step the members reported in the current generation (-1 for a member that has not yet). */
    private static long minMemberStep(JsonNode status) {
        long min = Long.MAX_VALUE;
        for (JsonNode m : status.get("members")) {
            min = Math.min(min, m.get("step").asLong());
        }
        return min;
    }

    private static long maxStep(List<Path> logs) throws IOException {
        long max = 0;
        for (Path log : logs) {
            for (StepLine s : ClusterLogs.steps(log)) {
                max = Math.max(max, s.step());
            }
        }
        return max;
    }
}

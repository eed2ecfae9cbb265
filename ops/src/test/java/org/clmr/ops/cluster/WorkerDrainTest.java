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
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Graceful drain with real processes: a coordinator and three CPU workers on the tiny preset (global batch
 * 6, plans of 2 steps), the third started through {@code clmr worker --devices all} (one supervised child
 * on this GPU-less machine). Mid-run one worker is drained with {@code clmr worker drain}, then the
 * supervisor gets SIGTERM ({@link Process#destroy()}), which it forwards to its child. Both drained
 * workers exit 0 mid-run; the survivor completes the run; every step of the run was done, none twice by
 * any worker, and whoever reported a step reported the same weights after it.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class WorkerDrainTest {
    private static final Pattern NODE = Pattern.compile("coordinator node akka://clmr@([\\d.]+:\\d+) up");
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static ClusterKeys keys;
    private static final List<String> COMMON = List.of("--set", "run.model.preset=tiny",
            "--set", "run.model.projection-dim=16", "--set", "run.global-batch=6",
            "--set", "run.checkpoint.every-steps=10", "--set", "worker.threads=1");

    private final List<Process> all = new ArrayList<>();
    private Path dir;

    @AfterEach
    void stopAll() throws IOException {
        all.forEach(Process::destroyForcibly);
        // the logs stay under target/ for inspection; the generated audio goes
        if (dir != null && Files.isDirectory(dir.resolve("dataset"))) {
            try (var files = Files.walk(dir.resolve("dataset"))) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    @Test
    void shouldLetDrainedWorkersLeaveAtAStepBoundaryWithoutTheRunLosingOrRepeatingAStep() throws Exception {
        dir = Files.createTempDirectory(Files.createDirectories(Path.of("target")), "clmr-drain-").toAbsolutePath();
        Path dataset = dir.resolve("dataset");
        GeneratedSet.write(dataset, 24, 7, 22050, 1.0, 2, false, Duration.ofSeconds(30));
        String hash;
        int items;
        try (PackedDataset ds = PackedDataset.open(dataset)) {
            hash = ds.contentHash();
            items = PretrainView.of(ds, false).size();
        }
        long perEpoch = items / 6;
        int epochs = (int) Math.max(1, (30 + perEpoch - 1) / perEpoch);
        long total = perEpoch * epochs;
        List<String> common = new ArrayList<>(COMMON);
        common.addAll(List.of("--set", "run.epochs=" + epochs));

        Path runDir = dir.resolve("run");
        keys = ClusterKeys.in(runDir);
        common.addAll(keys.args());
        List<String> c = new ArrayList<>(List.of("coordinator", "--run-dir", runDir.toString(),
                "--set", "coordinator.cluster.port=0", "--set", "coordinator.http.port=0",
                "--set", "coordinator.formation-delay=10s", "--set", "coordinator.plan-steps=2",
                // a loaded machine (other tests beside this one) may take seconds to answer the first asks
                "--set", "coordinator.ask-timeout=30s"));
        c.addAll(common);
        Process coordinator = start(c, "coordinator.log", "512m");
        String seed = ClusterLogs.awaitValue(dir.resolve("coordinator.log"), NODE, coordinator, WAIT);
        String http = ClusterLogs.awaitValue(dir.resolve("coordinator.log"), ClusterLogs.HTTP, coordinator, WAIT);

        List<String> w = new ArrayList<>(List.of("--seed-nodes", seed, "--dataset", dataset.toString(),
                "--set", "worker.cluster.repeat-interval=300ms",
                "--set", "worker.aeron.connect-timeout=15s",
                // on a machine loaded by other tests an Aeron client or driver can stall past the 5 s defaults
                "--set", "worker.aeron.liveness-timeout=20s"));
        w.addAll(common);
        Process survivor = start(workerArgs(w), "survivor.log", "768m");
        Process byCommand = start(workerArgs(w), "by-command.log", "768m");
        List<String> supervised = workerArgs(w);
        supervised.addAll(List.of("--devices", "all"));
        Process supervisor = start(supervised, "by-sigterm.log", "768m");
        ClusterLogs.awaitValue(dir.resolve("by-sigterm.log"), Pattern.compile("--devices all means the CPU here"), supervisor, WAIT);
        for (String log : List.of("survivor.log", "by-command.log", "by-sigterm.log")) {
            ClusterLogs.awaitValue(dir.resolve(log), Pattern.compile("worker \\S+ up: aeron.*device cpu .*cores"), survivor, WAIT);
        }
        // every worker is up before the run starts, so all three register within the formation delay
        control(http, "start?run-id=drain&dataset-hash=" + hash + "&tracks=" + items);
        JsonNode status = awaitMembers(http, 3);
        assertTrue(status.get("members").get(0).get("device").asText().matches("cpu .+, \\d+ cores?, .+ GiB"),
                status.toString());

        String drained = "127.0.0.1/cpu/" + byCommand.pid();
        StringWriter out = new StringWriter();
        List<String> drain = new ArrayList<>(List.of("worker", "drain", "--worker", drained, "--coordinator", http));
        drain.addAll(keys.args());
        int code = Clmr.commandLine().setOut(new PrintWriter(out)).execute(drain.toArray(String[]::new));
        assertEquals(0, code, out.toString());
        assertTrue(out.toString().contains("leaves at the next plan boundary"), out.toString());
        assertTrue(byCommand.waitFor(60, TimeUnit.SECONDS), "drained worker still running");
        assertEquals(0, byCommand.exitValue(), read("by-command.log"));

        long genAfterFirst = status(http).get("generation").asLong();
        ClusterLogs.awaitValue(dir.resolve("survivor.log"), Pattern.compile("step generation=" + genAfterFirst + " rank=\\d step=\\d+ "), survivor, WAIT);
        supervisor.destroy();
        assertTrue(supervisor.waitFor(60, TimeUnit.SECONDS), "supervisor still running");
        assertEquals(0, supervisor.exitValue(), read("by-sigterm.log"));
        assertTrue(read("by-sigterm.log").contains("SIGTERM: draining"), read("by-sigterm.log"));

        assertTrue(survivor.waitFor(120, TimeUnit.SECONDS), "survivor did not finish:\n" + read("survivor.log"));
        assertEquals(0, survivor.exitValue(), read("survivor.log"));
        assertEquals("COMPLETED", status(http).get("phase").asText());

        // every step of the run was computed once: whoever reported it, with the same weights after it; no
        // worker reports a step twice (a repeat), none is missing (a loss), and the survivor ends the run
        Map<Long, String> weights = new TreeMap<>();
        for (String log : List.of("survivor.log", "by-command.log", "by-sigterm.log")) {
            List<StepLine> own = ClusterLogs.steps(dir.resolve(log));
            assertEquals(own.size(), own.stream().map(StepLine::step).distinct().count(), log + " repeats a step: " + own);
            for (StepLine x : own) {
                String before = weights.putIfAbsent(x.step(), x.fingerprint());
                assertTrue(before == null || before.equals(x.fingerprint()), log + ": other weights after step " + x.step());
            }
            if (!log.equals("survivor.log")) {
                assertTrue(!own.isEmpty() && own.get(own.size() - 1).step() < total, log + " left mid-run: " + own);
            }
        }
        assertEquals(LongStream.rangeClosed(1, total).boxed().toList(), new ArrayList<>(weights.keySet()),
                "every step of the run was done");
        List<StepLine> kept = ClusterLogs.steps(dir.resolve("survivor.log"));
        assertEquals(total, kept.get(kept.size() - 1).step());
        assertTrue(kept.get(kept.size() - 1).generation() >= 3, "two generations after the drains: " + kept);
    }

    private static List<String> workerArgs(List<String> common) {
        List<String> args = new ArrayList<>(List.of("worker"));
        args.addAll(common);
        return args;
    }

    private Process start(List<String> args, String log, String heap) {
        Process p = JavaProcess.of(Clmr.class).args(args).maxHeap(heap).output(dir.resolve(log)).start();
        all.add(p);
        return p;
    }

    private static void control(String http, String action) throws IOException, InterruptedException {
        HttpResponse<String> r = CLIENT.send(keys.request("http://" + http + "/control/" + action)
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), action + ": " + r.body());
    }

    private static JsonNode status(String http) throws IOException, InterruptedException {
        return new ObjectMapper().readTree(CLIENT.send(keys.request("http://" + http + "/status")
                .GET().build(), HttpResponse.BodyHandlers.ofString()).body());
    }

    private String read(String log) throws IOException {
        Path p = dir.resolve(log);
        return Files.exists(p) ? Files.readString(p) : "";
    }

    /** Waits until the run has this many members that have completed a step of its generation. */
    private static JsonNode awaitMembers(String http, int n) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        JsonNode s = status(http);
        while (System.nanoTime() < deadline) {
            s = status(http);
            JsonNode members = s.path("members");
            boolean stepped = members.size() == n;
            for (JsonNode m : members) {
                stepped &= m.get("step").asLong() > 0;
            }
            if (stepped) {
                return s;
            }
            Thread.sleep(200);
        }
        fail("no " + n + " members stepping within 90 s: " + s);
        return s;
    }
}

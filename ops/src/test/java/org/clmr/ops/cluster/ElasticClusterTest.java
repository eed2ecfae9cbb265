package org.clmr.ops.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.clmr.data.dataset.PackedDataset;
import org.clmr.data.dataset.PretrainView;
import org.clmr.data.generate.GeneratedSet;
import org.clmr.ops.Clmr;
import org.clmr.protocol.process.JavaProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The elastic cluster end to end with real processes: a coordinator JVM ({@code clmr coordinator}, H2 in
 * a temp run directory) and worker JVMs ({@code clmr worker}) training the tiny preset over Aeron on a
 * generated dataset. Membership invariance (issue 10): the same run (seed, steps) with 2 workers and
 * with 1 worker gives the same per-step losses, and both workers of the 2-worker run hold the same
 * weights after every step.
 */
@Timeout(240)
class ElasticClusterTest {
    private static final Pattern STEP = Pattern.compile(
            "step generation=(\\d+) rank=(\\d+) step=(\\d+) epoch=\\d+ loss=(\\S+) samples/s=\\S+ fingerprint=(\\S+)");
    private static final Pattern NODE = Pattern.compile("coordinator node akka://clmr@([\\d.]+:\\d+) up");
    private static final Pattern HTTP = Pattern.compile("status: +http://([\\d.]+:\\d+)/status");
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private record StepLine(long generation, int rank, long step, double loss, String fingerprint) {
    }

    @Test
    void shouldTrainTheSameLossesWithTwoWorkersAsWithOne(@TempDir Path dir) throws Exception {
        Path dataset = dir.resolve("dataset");
        GeneratedSet.write(dataset, 24, 5, 22050, 1.0, 2, false, Duration.ofSeconds(30));
        String hash;
        int items;
        try (PackedDataset ds = PackedDataset.open(dataset)) {
            hash = ds.contentHash();
            items = PretrainView.of(ds, false).size();
        }
        long steps = items / 4;
        assertTrue(steps >= 3, "the generated set has " + items + " training tracks");
        Path runDir = dir.resolve("run");
        List<String> common = List.of("--set", "run.model.preset=tiny", "--set", "run.model.projection-dim=16",
                "--set", "run.global-batch=4", "--set", "run.epochs=1", "--set", "run.checkpoint.every-steps=2",
                "--set", "worker.threads=1");
        List<Process> all = new ArrayList<>();
        try {
            List<String> coordinatorArgs = new ArrayList<>(List.of("coordinator", "--run-dir", runDir.toString(),
                    "--set", "coordinator.cluster.port=0", "--set", "coordinator.http.port=0",
                    "--set", "coordinator.formation-delay=3s"));
            coordinatorArgs.addAll(common);
            Path coordinatorLog = dir.resolve("coordinator.log");
            all.add(JavaProcess.of(Clmr.class).args(coordinatorArgs).maxHeap("512m").output(coordinatorLog).start());
            String seed = awaitMatch(coordinatorLog, NODE, all.get(0));
            String http = awaitMatch(coordinatorLog, HTTP, all.get(0));
            String checkpointUrl = "jdbc:h2:file:" + runDir.toAbsolutePath().resolve("coordinator") + ";AUTO_SERVER=TRUE";

            List<List<StepLine>> two = run(dir, "two", 2, seed, http, dataset, hash, items, common, checkpointUrl, all);
            List<List<StepLine>> one = run(dir, "one", 1, seed, http, dataset, hash, items, common, checkpointUrl, all);

            assertEquals(two.get(0), two.get(1), "both workers report the same steps, losses and fingerprints");
            List<StepLine> a = two.get(0);
            List<StepLine> b = one.get(0);
            assertEquals(steps, a.size());
            assertEquals(steps, b.size());
            for (int i = 0; i < steps; i++) {
                assertEquals(i + 1, a.get(i).step());
                assertEquals(i + 1, b.get(i).step());
                double la = a.get(i).loss();
                double lb = b.get(i).loss();
                assertTrue(Double.isFinite(la) && Math.abs(la - lb) <= 1e-4 * Math.abs(lb),
                        "step " + (i + 1) + ": 2 workers " + la + ", 1 worker " + lb);
            }
        } finally {
            for (Process p : all) {
                p.destroyForcibly();
            }
        }
    }

    /** One run with {@code n} worker processes: each worker's step lines, in order. */
    private static List<List<StepLine>> run(Path dir, String runId, int n, String seed, String http, Path dataset,
                                            String hash, int items, List<String> common, String checkpointUrl,
                                            List<Process> all) throws Exception {
        List<Process> workers = new ArrayList<>();
        List<Path> logs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            List<String> args = new ArrayList<>(List.of("worker", "--seed-nodes", seed, "--dataset", dataset.toString(),
                    "--set", "worker.cluster.checkpoint.url=" + checkpointUrl,
                    "--set", "worker.cluster.repeat-interval=500ms",
                    "--set", "worker.aeron.endpoint=\"127.0.0.1:40500\""));
            args.addAll(common);
            Path log = dir.resolve(runId + "-worker-" + i + ".log");
            Process p = JavaProcess.of(Clmr.class).args(args).maxHeap("768m").output(log).start();
            all.add(p);
            workers.add(p);
            logs.add(log);
        }
        for (int i = 0; i < n; i++) {
            awaitMatch(logs.get(i), Pattern.compile("worker \\S+ up: aeron"), workers.get(i));
        }
        HttpResponse<String> start = CLIENT.send(HttpRequest.newBuilder(URI.create("http://" + http
                        + "/control/start?run-id=" + runId + "&dataset-hash=" + hash + "&tracks=" + items))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, start.statusCode(), start.body());
        for (int i = 0; i < n; i++) {
            assertTrue(workers.get(i).waitFor(150, TimeUnit.SECONDS), runId + " worker " + i + " did not finish:\n"
                    + Files.readString(logs.get(i)));
            assertEquals(0, workers.get(i).exitValue(), Files.readString(logs.get(i)));
        }
        JsonNode status = new ObjectMapper().readTree(CLIENT.send(HttpRequest.newBuilder(
                URI.create("http://" + http + "/status")).GET().build(), HttpResponse.BodyHandlers.ofString()).body());
        assertEquals("COMPLETED", status.get("phase").asText(), status.toString());
        assertEquals(runId, status.get("runId").asText());
        JsonNode ck = status.get("lastCheckpoint");
        assertNotNull(ck, status.toString());
        assertFalse(ck.isNull(), "a checkpoint was written by rank 0 and committed: " + status);
        List<List<StepLine>> out = new ArrayList<>();
        for (Path log : logs) {
            TreeMap<Long, StepLine> byStep = new TreeMap<>();
            for (String line : Files.readAllLines(log)) {
                Matcher m = STEP.matcher(line);
                if (m.find()) {
                    StepLine s = new StepLine(Long.parseLong(m.group(1)), Integer.parseInt(m.group(2)),
                            Long.parseLong(m.group(3)), Double.parseDouble(m.group(4)), m.group(5));
                    assertFalse(byStep.containsKey(s.step()), "step " + s.step() + " reported twice in " + log);
                    byStep.put(s.step(), new StepLine(0, 0, s.step(), s.loss(), s.fingerprint()));
                }
            }
            out.add(new ArrayList<>(byStep.values()));
        }
        return out;
    }

    private static String awaitMatch(Path log, Pattern pattern, Process process) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            if (Files.exists(log)) {
                Matcher m = pattern.matcher(Files.readString(log));
                if (m.find()) {
                    return m.groupCount() > 0 ? m.group(1) : m.group();
                }
            }
            if (!process.isAlive()) {
                fail("process exited (" + process.exitValue() + ") before printing " + pattern + ":\n"
                        + (Files.exists(log) ? Files.readString(log) : ""));
            }
            Thread.sleep(200);
        }
        fail("no " + pattern + " within 90 s in " + log + ":\n" + (Files.exists(log) ? Files.readString(log) : ""));
        return null;
    }
}

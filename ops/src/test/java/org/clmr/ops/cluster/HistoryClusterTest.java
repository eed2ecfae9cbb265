package org.clmr.ops.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.clmr.data.dataset.PackedDataset;
import org.clmr.data.dataset.PretrainView;
import org.clmr.data.generate.GeneratedSet;
import org.clmr.ops.Clmr;
import org.clmr.protocol.process.JavaProcess;
import org.clmr.protocol.steplog.StepLog;
import org.clmr.protocol.steplog.StepRow;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

import javax.imageio.ImageIO;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What a researcher reads after a night of training, on one run of real processes (a coordinator JVM and two
 * worker JVMs training the tiny preset), in which one worker is killed with SIGKILL while steps run:
 * {@code clmr history} (over HTTP while the coordinator runs, and offline from the run directory after it
 * stopped) lists the removal with its reason and the generation that followed; the coordinator's per-step log
 * holds every step of the run once; {@code clmr report} writes the run's page and plots.
 */
@Timeout(value = 360, unit = TimeUnit.SECONDS)
class HistoryClusterTest {
    private static final Pattern NODE = Pattern.compile("coordinator node akka://clmr@([\\d.]+:\\d+) up");
    private static final Duration DEADLINE = Duration.ofSeconds(180);
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int BATCH = 4;
    private static final int EPOCHS = 10;
    private static final List<String> COMMON = List.of("--set", "run.model.preset=tiny",
            "--set", "run.model.projection-dim=16", "--set", "run.global-batch=" + BATCH, "--set", "run.epochs=" + EPOCHS,
            "--set", "run.checkpoint.every-steps=8", "--set", "worker.threads=1",
            "--set", "coordinator.cluster.down-unreachable-after=3s",
            "--set", "worker.cluster.down-unreachable-after=3s");

    private final List<Process> all = new ArrayList<>();
    private Path dir;
    private String http;

    @AfterEach
    void stopAll() {
        all.forEach(Process::destroyForcibly);
    }

    @Test
    void shouldTellTheHistoryOfARunThatLostAWorkerAndLogEveryStepOnce() throws Exception {
        dir = Files.createTempDirectory(Files.createDirectories(Path.of("target")), "clmr-history-").toAbsolutePath();
        Path dataset = dir.resolve("dataset");
        GeneratedSet.write(dataset, 64, 5, 22050, 1.0, 2, false, Duration.ofSeconds(60));
        String hash;
        int items;
        try (PackedDataset ds = PackedDataset.open(dataset)) {
            hash = ds.contentHash();
            items = PretrainView.of(ds, false).size();
        }
        long total = (long) (items / BATCH) * EPOCHS;
        Path runDir = dir.resolve("run");
        Process coordinator = startCoordinator(runDir);
        String seed = ClusterLogs.awaitValue(dir.resolve("coordinator.log"), NODE, coordinator, DEADLINE);
        List<Process> workers = List.of(startWorker(seed, dataset, 0), startWorker(seed, dataset, 1));
        for (int i = 0; i < 2; i++) {
            ClusterLogs.await(dir.resolve("worker-" + i + ".log"), Pattern.compile("worker \\S+ up: aeron"),
                    workers.get(i), DEADLINE);
        }
        post("/control/start?run-id=night&dataset-hash=" + hash + "&tracks=" + items);
        awaitStatus("both members training past step 12", s -> s.get("members").size() == 2
                && s.get("step").asLong() >= 12);
        Process killed = workers.get(1);
        String killedId = "/" + killed.pid();
        killed.destroyForcibly();
        assertTrue(killed.waitFor(10, TimeUnit.SECONDS));
        JsonNode done = awaitStatus("the run's end", s -> s.get("phase").asText().equals("COMPLETED"));
        assertEquals(total, done.get("step").asLong(), done.toString());

        // clmr history over HTTP: the removal, its reason, and the generation that followed
        String table = clmr("history", "--coordinator", http);
        List<String> lines = table.lines().toList();
        int removal = indexOf(lines, l -> l.contains(" removed  ") && l.contains(killedId + " (cpu"));
        String removed = lines.get(removal);
        assertTrue(removed.contains("removed: peer timeout; it was a member of generation")
                || removed.contains("removed: terminated; it was a member of generation"), table);
        int next = indexOf(lines.subList(removal, lines.size()), l -> l.contains(" generation  ")) + removal;
        assertTrue(lines.get(next).matches(".* generation \\d+ \\(.*(timed out on|terminated).*\\): 1 member .*"),
                table);
        assertTrue(lines.get(1).contains(" started     run night started: " + EPOCHS + " epochs of "), table);
        assertTrue(indexOf(lines, l -> l.endsWith(" completed   run night finished")) > next, table);
        assertTrue(table.contains(" checkpoint  checkpoint 1: step 8 (epoch 0), "), table);

        JsonNode json = JSON.readTree(clmr("history", "--coordinator", http, "--json", "--kind", "removed,generation"));
        List<String> kinds = new ArrayList<>();
        json.forEach(e -> kinds.add(e.get("kind").asText()));
        assertTrue(kinds.stream().allMatch(k -> k.equals("removed") || k.equals("generation")), kinds.toString());
        JsonNode r = null;
        for (JsonNode e : json) {
            if (e.get("kind").asText().equals("removed") && e.get("details").get("worker").asText().endsWith(killedId)) {
                r = e;
            }
        }
        assertNotNull(r, json.toString());
        assertTrue(r.get("details").get("wasMember").asBoolean());
        assertTrue(List.of("PEER_TIMEOUT", "TERMINATED").contains(r.get("details").get("reason").asText()), r.toString());

        // the coordinator's per-step log: every step of the run, once, in order
        List<StepRow> rows = StepLog.read(StepLog.fileFor(runDir, "night"));
        assertEquals(LongStream.rangeClosed(1, total).boxed().toList(), rows.stream().map(StepRow::step).toList());
        assertTrue(rows.stream().anyMatch(x -> x.members() == 2 && x.workers().size() == 2), "steps of two members");
        assertEquals(1, rows.get(rows.size() - 1).members(), "the survivor finished alone");

        // offline, once the coordinator is gone: the same history from its database (and the survivor's removal
        // after the run's end, if the coordinator heard of it between the two reads)
        coordinator.destroy();
        assertTrue(coordinator.waitFor(60, TimeUnit.SECONDS));
        String offline = clmr("history", "--run-dir", runDir.toString());
        assertTrue(offline.startsWith(table), "offline:\n" + offline + "\nover HTTP:\n" + table);

        String embedded = clmr("embed", "--checkpoint", runDir.toString(), "--input", dataset.toString(), "--out",
                dir.resolve("emb.npy").toString(), "--set", "run.model.preset=tiny");
        assertTrue(embedded.contains("wrote 64 embeddings of 64 values (checkpoint step-"
                + String.format("%012d", total) + ".ckpt (epoch " + (EPOCHS - 1) + ", step " + total + ", tiny))"), embedded);

        String reported = clmr("report", "--run-dir", runDir.toString(), "--out", dir.resolve("report").toString());
        assertTrue(reported.contains("report of run night: "), reported);
        String md = Files.readString(dir.resolve("report/report.md"));
        assertTrue(md.contains(total + " steps (up to step " + total + ")") && md.contains("Every step from 1 on"), md);
        assertTrue(md.contains(removed.substring(removed.indexOf("removed  ") + "removed  ".length()).strip()), md);
        for (String png : List.of("loss.png", "throughput.png", "step-time.png", "timeline.png", "members.png")) {
            assertNotNull(ImageIO.read(dir.resolve("report").resolve(png).toFile()), png);
        }
    }

    private static int indexOf(List<String> lines, Predicate<String> p) {
        for (int i = 0; i < lines.size(); i++) {
            if (p.test(lines.get(i))) {
                return i;
            }
        }
        fail("no such line in:\n" + String.join("\n", lines));
        return -1;
    }

    /** Runs a clmr command in this JVM; its output, when it exits 0. */
    private static String clmr(String... args) {
        CommandLine cl = Clmr.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        assertEquals(0, cl.execute(args), String.join(" ", args) + ": " + err + out);
        return out.toString();
    }

    private Process startCoordinator(Path runDir) throws Exception {
        List<String> args = new ArrayList<>(List.of("coordinator", "--run-dir", runDir.toString(),
                "--set", "coordinator.cluster.port=0", "--set", "coordinator.http.port=0",
                "--set", "coordinator.formation-delay=3s"));
        args.addAll(COMMON);
        Path log = dir.resolve("coordinator.log");
        Process p = JavaProcess.of(Clmr.class).args(args).maxHeap("512m").output(log).start();
        all.add(p);
        http = ClusterLogs.awaitValue(log, ClusterLogs.HTTP, p, DEADLINE);
        return p;
    }

    /** A worker of the run; rank 0 hands its checkpoints to the coordinator over the cluster. */
    private Process startWorker(String seed, Path dataset, int i) {
        List<String> args = new ArrayList<>(List.of("worker", "--seed-nodes", seed, "--dataset", dataset.toString(),
                "--set", "worker.cluster.repeat-interval=500ms", "--set", "worker.aeron.connect-timeout=5s",
                "--set", "worker.aeron.liveness-timeout=2s"));
        args.addAll(COMMON);
        Process p = JavaProcess.of(Clmr.class).args(args).maxHeap("768m").output(dir.resolve("worker-" + i + ".log"))
                .start();
        all.add(p);
        return p;
    }

    private JsonNode status() throws IOException, InterruptedException {
        return JSON.readTree(CLIENT.send(HttpRequest.newBuilder(URI.create("http://" + http + "/status"))
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString()).body());
    }

    private JsonNode awaitStatus(String what, Predicate<JsonNode> done) throws Exception {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            last = status();
            if (last.has("phase") && done.test(last)) {
                return last;
            }
            Thread.sleep(100);
        }
        fail("no " + what + " within " + DEADLINE.toSeconds() + " s; last status " + last + "; logs in " + dir);
        return null;
    }

    private void post(String path) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (true) {
            HttpResponse<String> r = CLIENT.send(HttpRequest.newBuilder(URI.create("http://" + http + path))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 503 || System.nanoTime() > deadline) {
                assertEquals(200, r.statusCode(), path + ": " + r.body());
                return;
            }
            Thread.sleep(500);
        }
    }
}

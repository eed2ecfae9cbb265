package org.clmr.ops.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.clmr.data.generate.GeneratedSet;
import org.clmr.ops.Clmr;
import org.clmr.ops.cluster.ClusterLogs.StepLine;
import org.clmr.ops.driver.DriverCommand;
import org.clmr.protocol.process.JavaProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

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
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Issue #17's data plane, with real processes: while {@code clmr train --workers 2} trains, another process on the
 * host ({@link RogueFrames}) sends each worker, on the streams of the first generation of both workers, a malformed
 * 48-byte frame and a forged one (right stream, header and CRC, a MAC of random bytes), then closes its
 * publications. Each worker drops and counts both ({@code clmr_worker_collective_frames_rejected_total}, read from
 * its metrics endpoint during the run), no operation fails (the run never leaves that generation), every step
 * completes, and both workers hold the same weights after every step.
 */
@Timeout(value = 540, unit = TimeUnit.SECONDS)
class ForgedFrameClusterTest {
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final Pattern DRIVER = Pattern.compile(Pattern.quote(DriverCommand.UP) + "(\\S+) \\(pid");
    /** Long enough that, under load, the rogue's JVM is up and sending while the generation of both workers trains. */
    private static final int EPOCHS = 30;

    private Process rogue;

    @AfterEach
    void stopRogue() {
        if (rogue != null) {
            rogue.destroyForcibly();
        }
    }

    @Test
    void shouldDropAndCountForgedAndMalformedFramesWhileEveryStepCompletesWithEqualWeights(@TempDir Path dir)
            throws Exception {
        Path dataset = dir.resolve("ds");
        GeneratedSet.write(dataset, 16, 7, 22050, 1.0, 2, false, Duration.ofSeconds(30));
        Path runDir = dir.resolve("run");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CompletableFuture<Integer> train = CompletableFuture.supplyAsync(() -> {
            CommandLine cl = Clmr.commandLine();
            cl.setOut(new PrintWriter(out, true));
            cl.setErr(new PrintWriter(err, true));
            return cl.execute("train", "--dataset", dataset.toString(), "--workers", "2", "--preset", "tiny",
                    "--batch", "4", "--epochs", Integer.toString(EPOCHS), "--run-dir", runDir.toString(),
                    "--set", "run.model.projection-dim=16", "--set", "worker.threads=1");
        });
        String http = awaitInLog(runDir.resolve("coordinator.log"), ClusterLogs.HTTP, train);
        String driverDir = awaitInLog(runDir.resolve("driver.log"), DRIVER, train);
        rogue = JavaProcess.of(RogueFrames.class).maxHeap("128m").args(driverDir, http, "2", "2000")
                .output(dir.resolve("rogue.log")).start();
        // the rogue waits for a generation of both workers, which under load forms minutes after the first
        long generation = Long.parseLong(awaitInLog(dir.resolve("rogue.log"), Pattern.compile("SENT 4 generation (\\d+)"),
                train, 300, () -> "coordinator status: " + status(http)));
        long total = status(http).get("totalSteps").asLong();
        List<String> metrics = List.of(awaitInLog(runDir.resolve("worker-0.log"), PrometheusTargets.WORKER_METRICS, train),
                awaitInLog(runDir.resolve("worker-1.log"), PrometheusTargets.WORKER_METRICS, train));
        for (int w = 0; w < 2; w++) {
            assertEquals(1, awaitRejected(metrics.get(w), "malformed", train), "worker " + w + " counted the malformed frame");
            assertEquals(1, awaitRejected(metrics.get(w), "bad_mac", train), "worker " + w + " counted the forged frame");
        }
        assertTrue(rogue.waitFor(60, TimeUnit.SECONDS) && rogue.exitValue() == 0, Files.readString(dir.resolve("rogue.log")));
        JsonNode afterClose = status(http);
        assertEquals("RUNNING", afterClose.get("phase").asText(), "the rogue's images ended while the run trained: " + afterClose);

        assertEquals(0, train.get(240, TimeUnit.SECONDS), err + "\n" + out);
        assertTrue(out.toString().contains("COMPLETED"), out.toString());
        assertEveryStepOnceInOneGenerationWithEqualWeights(runDir, total, generation);
        for (String w : new String[] {"worker-0.log", "worker-1.log"}) {
            String log = Files.readString(runDir.resolve(w));
            assertTrue(Pattern.compile("generation " + generation + " on rank \\d+ dropped frames: \\{malformed=1, bad_mac=1}")
                            .matcher(log).find(),
                    w + " says at the generation's end what it dropped");
        }
    }

    /**
     * From the first step of {@code generation} (the one the rogue sent into, of both workers) to the last, each
     * worker logged every step once and in that generation (no operation failed, so no later generation formed),
     * and both hold the same weights after each of them.
     */
    private static void assertEveryStepOnceInOneGenerationWithEqualWeights(Path runDir, long total, long generation)
            throws IOException {
        Map<Long, String> fingerprints = new TreeMap<>();
        long first = -1;
        for (String w : new String[] {"worker-0.log", "worker-1.log"}) {
            List<StepLine> steps = ClusterLogs.steps(runDir.resolve(w)).stream()
                    .filter(s -> s.generation() >= generation).toList();
            assertTrue(!steps.isEmpty() && steps.get(steps.size() - 1).step() == total, w + " trained to the end: " + steps);
            long start = steps.get(0).step();
            assertTrue(first < 0 || first == start, w + " started generation " + generation + " at the other's step");
            first = start;
            assertEquals(total - start + 1, steps.size(), w + " logged every step once: " + steps);
            for (int i = 0; i < steps.size(); i++) {
                StepLine s = steps.get(i);
                assertEquals(generation, s.generation(), w + ": no operation failed, so no new generation: " + s);
                assertEquals(start + i, s.step(), w);
                String other = fingerprints.putIfAbsent(s.step(), s.fingerprint());
                if (other != null) {
                    assertEquals(other, s.fingerprint(), "both workers hold the same weights after step " + s.step());
                }
            }
        }
        assertEquals(total - first + 1, fingerprints.size());
    }

    private static JsonNode status(String http) {
        try {
            HttpResponse<String> r = CLIENT.send(HttpRequest.newBuilder(URI.create("http://" + http + "/status")).GET()
                    .build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? new ObjectMapper().readTree(r.body()) : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** The worker's count of frames dropped for {@code reason}, once it is not 0 (or 0 after 30 s). */
    private static long awaitRejected(String endpoint, String reason, CompletableFuture<Integer> train) throws Exception {
        Pattern series = Pattern.compile("(?m)^clmr_worker_collective_frames_rejected_total\\{[^}]*reason=\""
                + reason + "\"[^}]*} (\\S+)$");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        long n = 0;
        while (System.nanoTime() < deadline && !train.isDone()) {
            String text = CLIENT.send(HttpRequest.newBuilder(URI.create("http://" + endpoint + "/metrics")).GET().build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            Matcher m = series.matcher(text);
            assertTrue(m.find(), "no " + reason + " series at " + endpoint);
            n = (long) Double.parseDouble(m.group(1));
            if (n > 0) {
                return n;
            }
            Thread.sleep(200);
        }
        return n;
    }

    /** Group 1 of {@code pattern}'s first match in {@code log}, once there is one. */
    private static String awaitInLog(Path log, Pattern pattern, CompletableFuture<Integer> train) throws Exception {
        return awaitInLog(log, pattern, train, 120, () -> "");
    }

    /** Group 1 of {@code pattern}'s first match in {@code log}, once there is one within {@code seconds}. */
    private static String awaitInLog(Path log, Pattern pattern, CompletableFuture<Integer> train, int seconds,
                                     java.util.function.Supplier<String> context) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (Files.exists(log)) {
                Matcher m = pattern.matcher(Files.readString(log));
                if (m.find()) {
                    return m.group(1);
                }
            }
            if (train.isDone()) {
                fail("clmr train ended (" + train.get() + ") before " + pattern + " in " + log + "; " + context.get());
            }
            Thread.sleep(100);
        }
        fail("no " + pattern + " in " + log + " within " + seconds + " s; " + context.get() + "; its end:\n" + tail(log));
        return null;
    }

    /** The last 2000 characters of {@code log}, to say why a line never came. */
    private static String tail(Path log) throws IOException {
        if (!Files.exists(log)) {
            return "(no such file)";
        }
        String text = Files.readString(log);
        return text.substring(Math.max(0, text.length() - 2000));
    }
}

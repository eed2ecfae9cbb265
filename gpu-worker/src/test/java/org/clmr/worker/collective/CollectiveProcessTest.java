package org.clmr.worker.collective;

import io.aeron.driver.MediaDriver;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.process.JavaProcess;
import org.clmr.protocol.wire.FrameKey;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Real rank JVMs ({@link CollectiveRankMain}) on loopback UDP and on one shared driver over IPC: every
 * op agrees bit for bit with a plain sum / concatenation computed here; a rank killed mid-all-reduce is
 * named by the survivors within the deadline, and the survivors' next generation works.
 */
class CollectiveProcessTest {
    private static final long SEED = 20211107L;
    private final List<Process> processes = new ArrayList<>();
    private MediaDriver driver;

    @TempDir
    Path tmp;

    @AfterEach
    void stop() {
        processes.forEach(Process::destroyForcibly);
        if (driver != null) {
            driver.close();
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void shouldAgreeBitForBitWithAPlainSumOnTwoRanksOverUdp() throws Exception {
        runOps(2, false);
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void shouldAgreeBitForBitWithAPlainSumOnThreeRanksOverUdp() throws Exception {
        runOps(3, false);
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void shouldAgreeBitForBitWithAPlainSumOnTwoRanksOverIpc() throws Exception {
        runOps(2, true);
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void shouldAgreeBitForBitWithAPlainSumOnThreeRanksOverIpc() throws Exception {
        runOps(3, true);
    }

    @Test
    @Timeout(value = 150, unit = TimeUnit.SECONDS)
    void shouldNameAKilledRankWithinTheDeadlineAndGoOnInANewGenerationOfSurvivors() throws Exception {
        List<String> endpoints = AeronSettings.freeLoopbackEndpoints(3);
        List<Path> logs = start("kill", 3, endpoints, "-");
        for (int r = 0; r < 3; r++) {
            awaitLine(logs.get(r), "LOOPING", 60);
        }
        Thread.sleep(200);
        processes.get(2).destroyForcibly();
        for (int r = 0; r < 2; r++) {
            assertTrue(processes.get(r).waitFor(60, TimeUnit.SECONDS), "survivor " + r + " did not finish: " + read(logs.get(r)));
            String log = read(logs.get(r));
            assertEquals(0, processes.get(r).exitValue(), log);
            String failed = line(log, "FAILED");
            assertTrue(failed.startsWith("FAILED silent=[2] "), "rank " + r + " must name rank 2 alone: " + failed);
            long ms = Long.parseLong(failed.replaceAll(".* ms=(\\d+) .*", "$1"));
            assertTrue(ms < 8_000 + 2_000, "rank " + r + " failed after " + ms + " ms, past the 8 s deadline");
            assertTrue(log.contains("GEN2 OK"), log);
        }
        int[] survivors = {0, 1};
        byte[] a = CollectiveRankMain.bytesOf(RankData.plainSum(SEED, survivors, "a", CollectiveRankMain.DIRECT_N));
        byte[] b = CollectiveRankMain.bytesOf(RankData.plainSum(SEED, survivors, "b", CollectiveRankMain.RING_N));
        for (int r : survivors) {
            assertArrayEquals(a, Files.readAllBytes(tmp.resolve("g2-r" + r + "-a.bin")), "generation 2 direct sum on rank " + r);
            assertArrayEquals(b, Files.readAllBytes(tmp.resolve("g2-r" + r + "-b.bin")), "generation 2 ring sum on rank " + r);
        }
    }

    private void runOps(int n, boolean ipc) throws Exception {
        String dir = "-";
        if (ipc) {
            dir = tmp.resolve("driver").toString();
            driver = AeronTransport.launchDriver(AeronSettings.from(ClmrConfig.defaults())
                    .withTimeouts(Duration.ofSeconds(8), Duration.ofSeconds(40), Duration.ofSeconds(2)), dir);
        }
        List<String> endpoints = ipc ? List.of("ipc", "ipc", "ipc").subList(0, n) : AeronSettings.freeLoopbackEndpoints(n);
        List<Path> logs = start("ops", n, endpoints, dir);
        for (int r = 0; r < n; r++) {
            assertTrue(processes.get(r).waitFor(100, TimeUnit.SECONDS), "rank " + r + " did not finish: " + read(logs.get(r)));
            assertEquals(0, processes.get(r).exitValue(), "rank " + r + ": " + read(logs.get(r)));
        }
        int[] all = new int[n];
        Arrays.setAll(all, i -> i);
        byte[] a = CollectiveRankMain.bytesOf(RankData.plainSum(SEED, all, "a", CollectiveRankMain.DIRECT_N));
        float[] ringSum = RankData.plainSum(SEED, all, "b", CollectiveRankMain.RING_N);
        byte[] c = CollectiveRankMain.bytesOf(RankData.plainSumD(SEED, n, "c", CollectiveRankMain.DOUBLE_N));
        int[] gc = RankData.gatherCounts(n);
        float[] concat = new float[RankData.sum(gc)];
        for (int k = 0, at = 0; k < n; at += gc[k], k++) {
            System.arraycopy(RankData.floats(SEED, k, "d", gc[k]), 0, concat, at, gc[k]);
        }
        int[] sc = RankData.scatterCounts(n);
        float[] scatterSum = RankData.plainSum(SEED, all, "e", RankData.sum(sc));
        byte[] f = RankData.bytes(SEED, n - 1, "f", CollectiveRankMain.BROADCAST_N);
        for (int r = 0; r < n; r++) {
            String p = "r" + r + "-";
            assertArrayEquals(a, bytes(p + "a.bin"), "direct all-reduce on rank " + r);
            float[] b = new float[CollectiveRankMain.RING_N + 7];
            float[] own = RankData.floats(SEED, r, "b", CollectiveRankMain.RING_N);
            b[0] = 0;
            System.arraycopy(ringSum, 0, b, 3, ringSum.length);
            assertArrayEquals(CollectiveRankMain.bytesOf(b), bytes(p + "b.bin"),
                    "ring all-reduce on rank " + r + " (own input " + own.length + " floats, edges untouched)");
            assertArrayEquals(c, bytes(p + "c.bin"), "double all-reduce on rank " + r);
            assertArrayEquals(CollectiveRankMain.bytesOf(concat), bytes(p + "d.bin"), "all-gather on rank " + r);
            int from = 0;
            for (int k = 0; k < r; k++) {
                from += sc[k];
            }
            assertArrayEquals(CollectiveRankMain.bytesOf(Arrays.copyOfRange(scatterSum, from, from + sc[r])),
                    bytes(p + "e.bin"), "reduce-scatter on rank " + r);
            assertArrayEquals(f, bytes(p + "f.bin"), "broadcast on rank " + r);
        }
    }

    private byte[] bytes(String name) throws IOException {
        return Files.readAllBytes(tmp.resolve(name));
    }

    private List<Path> start(String mode, int n, List<String> endpoints, String dir) {
        List<Path> logs = new ArrayList<>();
        long runId = System.nanoTime();
        String[] keys = {hexKey(), hexKey()};
        for (int r = 0; r < n; r++) {
            Path log = tmp.resolve("rank" + r + ".log");
            logs.add(log);
            processes.add(JavaProcess.of(CollectiveRankMain.class).maxHeap("256m")
                    .args(mode, Long.toString(runId), Integer.toString(r), String.join(",", endpoints),
                            endpoints.get(0).equals("ipc") ? "ipc" : "udp", dir, Long.toString(SEED), tmp.toString(),
                            keys[0], keys[1])
                    .output(log).start());
        }
        return logs;
    }

    /** A random frame key in hex, as the coordinator would draw it (the ranks get it as an argument here). */
    private static String hexKey() {
        byte[] k = new byte[FrameKey.LENGTH];
        new SecureRandom().nextBytes(k);
        return HexFormat.of().formatHex(k);
    }

    private static void awaitLine(Path log, String text, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && read(log).contains(text)) {
                return;
            }
            Thread.sleep(50);
        }
        fail("no '" + text + "' in " + log + " within " + seconds + " s: " + read(log));
    }

    private static String line(String log, String prefix) {
        return log.lines().filter(l -> l.startsWith(prefix)).findFirst().orElse("(no " + prefix + " line)");
    }

    private static String read(Path log) {
        try {
            return Files.exists(log) ? Files.readString(log) : "(no output)";
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }
}

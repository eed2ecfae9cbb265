package org.clmr.ops.driver;

import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import org.clmr.ops.Clmr;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.process.JavaProcess;
import org.clmr.worker.collective.AeronCollective;
import org.clmr.worker.collective.AeronSettings;
import org.clmr.worker.collective.AeronTransport;
import org.clmr.worker.collective.Membership;
import org.clmr.worker.collective.OpTag;
import org.clmr.protocol.wire.FrameKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code clmr driver}: a stand-alone media driver process that clients share over IPC; busy and stale directories. */
class DriverCommandTest {

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void shouldReplaceAStaleDirectoryServeIpcClientsAndRefuseASecondDriverInOneLine(@TempDir Path tmp) throws Exception {
        String dir = AeronTransport.freshDirectory();
        MediaDriver.launch(new MediaDriver.Context().aeronDirectoryName(dir).dirDeleteOnStart(true)
                .dirDeleteOnShutdown(false).threadingMode(ThreadingMode.SHARED)).close();
        Thread.sleep(1_200);
        Path log = tmp.resolve("driver.log");
        Process driver = JavaProcess.of(Clmr.class).maxHeap("128m")
                .args("driver", "--dir", dir, "--set", "worker.aeron.liveness-timeout=1s").output(log).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
            while (!(Files.exists(log) && Files.readString(log).contains(DriverCommand.UP + dir))) {
                assertTrue(driver.isAlive() && System.nanoTime() < deadline, () -> "driver not up: " + read(log));
                Thread.sleep(50);
            }
            String started = Files.readString(log);
            assertTrue(started.contains("replaced the stale driver directory " + dir + " (its driver's last heartbeat was "),
                    started);

            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            CommandLine cl = Clmr.commandLine();
            cl.setOut(new PrintWriter(out, true));
            cl.setErr(new PrintWriter(err, true));
            assertEquals(1, cl.execute("driver", "--dir", dir), out + "\n" + err);
            String line = err.toString().strip();
            assertTrue(line.contains("an Aeron media driver is already active in " + dir), line);
            assertFalse(line.contains("\n"), line);

            AeronSettings s = AeronSettings.from(ClmrConfig.defaults()).with(false, dir, true, "ipc");
            List<String> ipc = List.of("ipc", "ipc");
            FrameKey key = FrameKey.random();
            try (AeronTransport a = AeronTransport.start(s); AeronTransport b = AeronTransport.start(s)) {
                assertEquals(dir, a.directory());
                java.util.concurrent.CompletableFuture<float[]> other = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    try (AeronCollective c1 = b.join(new Membership(7, 1, 1, ipc, key))) {
                        float[] v = {10f, 20f};
                        c1.allReduceSum(new OpTag(1, 0, 0), v, 0, 2);
                        return v;
                    }
                });
                try (AeronCollective c0 = a.join(new Membership(7, 1, 0, ipc, key))) {
                    float[] v = {1f, 2f};
                    c0.allReduceSum(new OpTag(1, 0, 0), v, 0, 2);
                    assertEquals(11f, v[0]);
                    assertEquals(22f, v[1]);
                }
                assertEquals(22f, other.get(20, TimeUnit.SECONDS)[1]);
            }
        } finally {
            driver.destroy();
            assertTrue(driver.waitFor(20, TimeUnit.SECONDS), "the driver stops on SIGTERM");
        }
        assertFalse(Files.exists(Path.of(dir)), "the driver removes its directory when stopped: " + read(log));
    }

    private static String read(Path log) {
        try {
            return Files.exists(log) ? Files.readString(log) : "(no log)";
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }
}

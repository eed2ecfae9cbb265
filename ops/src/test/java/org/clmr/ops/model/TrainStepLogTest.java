package org.clmr.ops.model;

import org.clmr.ops.Clmr;
import org.clmr.protocol.process.JavaProcess;
import org.clmr.protocol.steplog.StepLog;
import org.clmr.protocol.steplog.StepRow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code clmr train}'s per-step log across a real interruption: a training JVM killed with SIGKILL some steps past
 * its last checkpoint, then the same command again, which resumes from that checkpoint and computes those steps
 * again: the log ends with every step of the run once, in order.
 */
@Timeout(240)
class TrainStepLogTest {
    private static final List<String> ARGS = List.of("train", "--preset", "tiny", "--batch", "4", "--steps", "40",
            "--set", "worker.threads=1", "--set", "run.model.projection-dim=16", "--set", "run.checkpoint.every-steps=5");

    @Test
    void shouldHoldEveryStepOnceAfterAKilledRunIsResumed(@TempDir Path dir) throws Exception {
        Path runDir = dir.resolve("run");
        Path log = StepLog.fileFor(runDir, "train");
        Process p = JavaProcess.of(Clmr.class).args(ARGS).args("--run-dir", runDir.toString()).maxHeap("512m")
                .output(dir.resolve("first.log")).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(150);
            while (rows(log) < 13) {  // past the checkpoint of step 10, before the one of step 15
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    fail("the first run ended or stalled before step 13: " + Files.readString(dir.resolve("first.log")));
                }
                Thread.sleep(20);
            }
        } finally {
            p.destroyForcibly();
        }
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        long before = StepLog.read(log).size();
        assertTrue(before >= 13 && before < 40, "killed at step " + before);

        CommandLine cl = Clmr.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        List<String> again = new ArrayList<>(ARGS);
        again.addAll(List.of("--run-dir", runDir.toString()));
        assertEquals(0, cl.execute(again.toArray(String[]::new)), err + "\n" + out);
        assertTrue(out.toString().contains("resuming from step "), out.toString());
        assertTrue(out.toString().contains("step log: " + log), out.toString());
        List<Long> steps = StepLog.read(log).stream().map(StepRow::step).toList();
        assertEquals(LongStream.rangeClosed(1, 40).boxed().toList(), steps, "every step once after the resume");
    }

    private static int rows(Path log) throws Exception {
        if (!Files.exists(log)) {
            return 0;
        }
        return (int) Files.readAllLines(log).stream().filter(l -> !l.isEmpty() && Character.isDigit(l.charAt(0))).count();
    }
}

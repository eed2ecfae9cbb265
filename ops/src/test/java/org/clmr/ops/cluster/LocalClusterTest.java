package org.clmr.ops.cluster;

import org.clmr.data.generate.GeneratedSet;
import org.clmr.ops.Clmr;
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
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code clmr train --workers 2}: a coordinator, one shared Aeron driver and two worker processes on this
 * machine train a run to its end.
 */
@Timeout(180)
class LocalClusterTest {

    @Test
    void shouldTrainARunToItsEndOnALocalClusterOfTwoWorkers(@TempDir Path dir) throws Exception {
        Path dataset = dir.resolve("ds");
        GeneratedSet.write(dataset, 16, 7, 22050, 1.0, 2, false, Duration.ofSeconds(30));
        CommandLine cl = Clmr.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        Path runDir = dir.resolve("run");
        int code = cl.execute("train", "--dataset", dataset.toString(), "--workers", "2", "--preset", "tiny",
                "--batch", "4", "--epochs", "1", "--run-dir", runDir.toString(),
                "--set", "run.model.projection-dim=16", "--set", "worker.threads=1");
        String logs = Files.exists(runDir.resolve("worker-0.log")) ? Files.readString(runDir.resolve("worker-0.log")) : "";
        assertEquals(0, code, err + "\n" + out + "\n" + logs);
        assertTrue(out.toString().contains("COMPLETED"), out.toString());
        assertTrue(out.toString().contains("done: finished 1 epochs"), out.toString());
        for (String w : new String[] {"worker-0.log", "worker-1.log"}) {
            assertTrue(Files.readString(runDir.resolve(w)).contains("run finished"), w);
            assertTrue(Files.readString(runDir.resolve(w)).contains("aeron: external driver in "), w + " on the shared driver");
            assertTrue(Files.readString(runDir.resolve(w)).contains(", transport ipc"), w + " over IPC");
        }
        assertTrue(Files.readString(runDir.resolve("driver.log")).contains("aeron driver up in "), "one shared driver");
        Matcher steps = Pattern.compile("finished 1 epochs \\((\\d+) steps\\)").matcher(out.toString());
        assertTrue(steps.find(), out.toString());
        Matcher log = Pattern.compile("step log: (\\S+) ").matcher(out.toString());
        assertTrue(log.find(), out.toString());
        assertEquals(LongStream.rangeClosed(1, Long.parseLong(steps.group(1))).boxed().toList(),
                StepLog.read(Path.of(log.group(1))).stream().map(StepRow::step).toList(), "the coordinator's step log");
    }
}

package org.clmr.ops.demo;

import org.clmr.ops.Clmr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code clmr demo}, shrunk: a small generated set, one epoch on a local cluster of one worker, two-epoch
 * probes. Both evaluation rows are printed with values in [0, 1], both reports exist, and the evaluated
 * checkpoint is the run's final step taken out of the coordinator's database.
 */
@Timeout(240)
class DemoCommandTest {
    private static final Pattern ROW = Pattern.compile("(pre-trained \\(CLMR\\)|random encoder)\\s+([\\d.]+)\\s+([\\d.]+)\\s+([\\d.]+)\\s+([\\d.]+)");

    @Test
    void shouldGenerateTrainAndEvaluateBothEncoders(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("demo");
        CommandLine cl = Clmr.commandLine();
        StringWriter stdout = new StringWriter();
        StringWriter stderr = new StringWriter();
        cl.setOut(new PrintWriter(stdout, true));
        cl.setErr(new PrintWriter(stderr, true));
        int code = cl.execute("demo", "--out", out.toString(), "--tracks", "24", "--seconds", "1", "--epochs", "1",
                "--batch", "4", "--workers", "1", "--eval-epochs", "2", "--set", "run.model.projection-dim=16");
        String text = stdout + "\n" + stderr;
        assertEquals(0, code, text);
        Matcher m = ROW.matcher(stdout.toString());
        int rows = 0;
        while (m.find()) {
            rows++;
            for (int g = 2; g <= 5; g++) {
                double v = Double.parseDouble(m.group(g));
                assertTrue(v >= 0 && v <= 1, m.group() + "\n" + text);
            }
        }
        assertEquals(2, rows, text);
        assertTrue(Pattern.compile("random encoder( +[\\d.]+){4} +\\d+/64 +[0-9e.-]+\\n").matcher(stdout.toString()).find(),
                "the random row ends with its dead dimensions and chosen weight decay: " + text);
        assertTrue(stdout.toString().contains("random row: the paper's probe on raw features gives "), text);
        assertTrue(Files.exists(out.resolve("eval-random/paper-protocol/report.md")), text);
        assertTrue(Files.exists(out.resolve("eval-trained/report.md")), text);
        assertTrue(Files.exists(out.resolve("eval-random/report.md")), text);
        assertTrue(stdout.toString().contains("training report: " + out.toAbsolutePath().resolve("run/report/report.md")), text);
        assertTrue(Files.readString(out.resolve("run/report/report.md")).contains("## History"), "the run's history");
        Matcher done = Pattern.compile("finished 1 epochs \\((\\d+) steps\\)").matcher(text);
        assertTrue(done.find(), text);
        try (var files = Files.list(out.resolve("checkpoints"))) {
            Path runDir = files.findFirst().orElseThrow();
            Path last = runDir.resolve(String.format("step-%012d.ckpt", Long.parseLong(done.group(1))));
            assertTrue(Files.exists(last), "the final step's checkpoint " + last + ": " + text);
        }
        assertEquals(1, cl.execute("demo", "--out", out.toString()), "a second demo into the same --out needs --force");
    }
}

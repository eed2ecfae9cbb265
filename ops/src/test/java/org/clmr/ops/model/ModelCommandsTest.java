package org.clmr.ops.model;

import org.clmr.ops.Clmr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(120)
class ModelCommandsTest {

    private record Result(int code, String out, String err) {
    }

    private static Result run(String... args) {
        CommandLine cl = Clmr.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void shouldPrintThePapersLayerTableAndTotals() {
        Result r = run("model", "--preset", "paper");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("encoder 2,368,512 + projection head 327,680 = 2,696,192 trainable parameters"), r.out());
        assertTrue(r.out().contains("sequential.10"), r.out());
    }

    @Test
    void shouldTrainResumeAndExportATinyModel(@TempDir Path dir) throws Exception {
        String[] common = {"--preset", "tiny", "--batch", "4", "--run-dir", dir.toString(), "--set", "worker.threads=1",
                "--set", "run.model.projection-dim=16", "--set", "run.checkpoint.every-steps=1"};
        Result first = run(concat(new String[] {"train", "--steps", "1"}, common));
        assertEquals(0, first.code(), first.err());
        assertTrue(first.out().contains("done: 1 steps"), first.out());
        Result second = run(concat(new String[] {"train", "--steps", "2"}, common));
        assertEquals(0, second.code(), second.err());
        assertTrue(second.out().contains("resuming from step 1"), second.out());
        Path ckpt = dir.resolve("checkpoints/train/step-000000000002.ckpt");
        assertTrue(Files.isRegularFile(ckpt));

        Result described = run("model", "--checkpoint", ckpt.toString());
        assertEquals(0, described.code(), described.err());
        assertTrue(described.out().contains("checkpoint step 2"), described.out());

        Path out = dir.resolve("encoder.safetensors");
        Result exported = run("export", "--checkpoint", ckpt.toString(), "--out", out.toString(),
                "--probe-out", dir.resolve("probe.json").toString());
        assertEquals(0, exported.code(), exported.err());
        assertTrue(Files.size(out) > 28_512 * 4);
        assertTrue(Files.readString(dir.resolve("probe.json")).contains("\"h\""));

        Files.write(ckpt, new byte[] {1, 2, 3});
        Result refused = run("export", "--checkpoint", ckpt.toString(), "--out", out.toString());
        assertEquals(1, refused.code());
        assertEquals(1, refused.err().strip().lines().count(), refused.err());
        assertTrue(refused.err().contains("is refused"), refused.err());
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}

package org.clmr.ops.data;

import org.clmr.data.dataset.PackedDataset;
import org.clmr.ops.Clmr;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(120)
class PrepareCommandTest {

    record Result(int code, String out, String err) {
    }

    static Result run(String... args) {
        CommandLine cl = Clmr.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void shouldGenerateAMusicSetAndPrintItsReport(@TempDir Path dir) {
        Path out = dir.resolve("gen");
        Result r = run("prepare", "--generate", "10", "--seconds", "1", "--sample-rate", "8000", "--seed", "4",
                "--out", out.toString());
        assertEquals(0, r.code, r.err);
        PackedDataset ds = PackedDataset.open(out, 8000);
        assertEquals(10, ds.size());
        assertTrue(r.out.contains("content hash   " + ds.contentHash()), r.out);
        assertTrue(r.out.contains("pluck"), r.out);
    }

    @Test
    void shouldExitOneWithOneLineWhenNothingIsUsable(@TempDir Path dir) throws IOException {
        Path in = Files.createDirectories(dir.resolve("in"));
        Files.writeString(in.resolve("a.txt"), "not audio");
        Result r = run("prepare", "--input", in.toString(), "--out", dir.resolve("out").toString());
        Assumptions.assumeFalse(r.err.contains("ffmpeg not found"), "ffmpeg is not installed (apt-get install -y ffmpeg)");
        assertEquals(1, r.code, r.err);
        assertEquals(1, r.err.strip().lines().count(), r.err);
        assertTrue(r.err.contains("no usable audio"), r.err);
        assertTrue(Files.notExists(dir.resolve("out")));
    }

    @Test
    void shouldExitTwoWithoutAnInputOrAGenerateCount(@TempDir Path dir) {
        Result r = run("prepare", "--out", dir.resolve("x").toString());
        assertEquals(2, r.code);
        assertTrue(r.err.contains("--input") && r.err.contains("--generate"), r.err);
        assertEquals(2, run("prepare", "--out", dir.resolve("x").toString(), "--set", "data.prepare.jobs=-1").code);
    }
}

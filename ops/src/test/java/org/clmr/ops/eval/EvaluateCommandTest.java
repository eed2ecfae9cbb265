package org.clmr.ops.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.clmr.data.generate.GeneratedSet;
import org.clmr.eval.features.Npy;
import org.clmr.ops.Clmr;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code clmr evaluate} and {@code clmr embed} end to end: generated set, random tiny encoder, real DJL. */
@Timeout(120)
class EvaluateCommandTest {
    @TempDir
    static Path dir;
    static Path dataset;

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

    @BeforeAll
    static void generate() {
        dataset = dir.resolve("gen");
        // 40 tracks of 1 s: 32 train, 4 valid, 4 test; the tiny model's window is 2187 samples, 10 per track
        GeneratedSet.write(dataset, 40, 3, 22050, 1.0, 2, false, Duration.ofSeconds(30));
    }

    @Test
    void shouldWriteACompleteReportForARandomEncoderAndReuseTheCachedFeatures() throws Exception {
        Path out = dir.resolve("report");
        String[] args = {"evaluate", "--encoder", "random", "--set", "run.model.preset=tiny", "--set", "eval.max-epochs=3",
            "--dataset", dataset.toString(), "--seeds", "2", "--head", "mlp", "--out", out.toString()};
        Result r = run(args);
        assertEquals(0, r.code, r.err + r.out);
        assertTrue(r.out.contains("tag_roc_auc"), r.out);
        for (String f : List.of("report.json", "report.md", "per-tag-roc-auc.png", "validation-curve.png", "test-labels.csv",
                "test-scores-seed-0.csv", "test-scores-seed-1.csv", "features/train.npy", "features/test.json")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        JsonNode json = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertEquals("mlp", json.at("/config/head").asText());
        assertEquals(32, json.at("/config/train_tracks").asInt());
        assertEquals(320, json.at("/config/train_windows").asInt(), "10 whole windows of 2187 samples per 1 s track");
        assertEquals(64, json.at("/config/feature_dim").asInt());
        assertEquals(2, json.get("runs").size());
        assertTrue(json.at("/config/encoder_identity").asText().startsWith("random:"));
        Path features = out.resolve("features/train.npy");
        Files.setLastModifiedTime(features, java.nio.file.attribute.FileTime.fromMillis(1_000_000L));
        Result again = run(args);
        assertEquals(0, again.code, again.err);
        assertEquals(1_000_000L, Files.getLastModifiedTime(features).toMillis(), "the cached features were reused, not rewritten");
        JsonNode second = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertEquals(json.at("/summary/tag_roc_auc/mean").asDouble(), second.at("/summary/tag_roc_auc/mean").asDouble(), 0.0,
                "same features and seeds give the same numbers");
    }

    @Test
    void shouldRunTheFairProbeByDefaultAndThePapersOnRequest() throws Exception {
        Path fair = dir.resolve("fair");
        Result r = run("evaluate", "--encoder", "random", "--set", "run.model.preset=tiny", "--dataset", dataset.toString(),
                "--seeds", "2", "--out", fair.toString());
        assertEquals(0, r.code, r.err + r.out);
        assertTrue(r.out.contains("fair probe: features standardised on the training split, L-BFGS"), r.out);
        assertTrue(r.out.matches("(?s).*features: 64 dimensions, \\d+ constant on the training split.*weight decay chosen: [0-9e.-]+\\n.*"), r.out);
        JsonNode json = new ObjectMapper().readTree(fair.resolve("report.json").toFile());
        assertEquals("fair", json.at("/config/protocol").asText());
        assertTrue(json.at("/config/standardise").asBoolean());
        assertEquals(64, json.at("/features/dim").asInt());
        assertTrue(Files.isRegularFile(fair.resolve("head-seed-1.json")));

        Path paper = dir.resolve("paper");
        Result p = run("evaluate", "--encoder", "random", "--set", "run.model.preset=tiny", "--set", "eval.max-epochs=3",
                "--dataset", dataset.toString(), "--seeds", "1", "--protocol", "paper", "--out", paper.toString());
        assertEquals(0, p.code, p.err + p.out);
        assertTrue(p.out.contains("paper probe: raw (unstandardised) features, Adam lr 3e-4"), p.out);
        JsonNode paperJson = new ObjectMapper().readTree(paper.resolve("report.json").toFile());
        assertEquals("paper", paperJson.at("/config/protocol").asText());
        assertEquals("[1.0E-6]", paperJson.at("/config/weight_decay_grid").toString());

        Result bad = run("evaluate", "--encoder", "random", "--dataset", dataset.toString(), "--protocol", "sklearn", "--out", dir.resolve("z").toString());
        assertEquals(2, bad.code, bad.err);
        assertTrue(bad.err.contains("--protocol = sklearn is invalid: must be one of fair, paper"), bad.err);
    }

    @Test
    void shouldWriteOneEmbeddingPerTrackAsNpyWithIds() throws Exception {
        Path out = dir.resolve("emb.npy");
        Result r = run("embed", "--encoder", "random", "--set", "run.model.preset=tiny", "--input", dataset.toString(), "--out", out.toString());
        assertEquals(0, r.code, r.err);
        Npy.Matrix m = Npy.read(out);
        assertEquals(40, m.rows());
        assertEquals(64, m.cols());
        List<String> ids = Files.readAllLines(dir.resolve("emb.ids.txt"));
        assertEquals(40, ids.size());
        assertEquals("gen-00000", ids.get(0));
    }

    @Test
    void shouldExitOneWithOneLineForAMissingCheckpoint() {
        Result r = run("evaluate", "--checkpoint", dir.resolve("nope").toString(), "--dataset", dataset.toString(), "--out", dir.resolve("x").toString());
        assertEquals(1, r.code, r.err);
        assertEquals(1, r.err.strip().lines().filter(l -> l.startsWith("clmr")).count(), r.err);
        assertTrue(r.err.contains("no such file or directory"), r.err);
    }

    @Test
    void shouldRequireExactlyOneEncoder() {
        Result r = run("evaluate", "--dataset", dataset.toString(), "--out", dir.resolve("y").toString());
        assertEquals(2, r.code, r.err);
    }
}

package org.clmr.ops.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.clmr.data.generate.GeneratedSet;
import org.clmr.ops.Clmr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import javax.imageio.ImageIO;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code clmr evaluate --label-fractions}: a tiny checkpoint and a random encoder of its shape, per fraction. */
@Timeout(240)
class LabelFractionsCommandTest {
    @TempDir
    Path dir;

    private record Result(int code, String out, String err) {
    }

    private static Result run(String... args) {
        CommandLine cl = Clmr.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return new Result(cl.execute(args), out.toString(), err.toString());
    }

    @Test
    void shouldProbeThePreTrainedAndARandomEncoderPerFractionAndDrawTheFigure() throws Exception {
        Path dataset = dir.resolve("gen");
        GeneratedSet.write(dataset, 40, 3, 22050, 1.0, 2, false, Duration.ofSeconds(30));  // 32 training tracks
        Path runDir = dir.resolve("run");
        Result trained = run("train", "--dataset", dataset.toString(), "--preset", "tiny", "--batch", "8", "--steps", "2",
                "--run-dir", runDir.toString(), "--set", "worker.threads=1");
        assertEquals(0, trained.code, trained.err + trained.out);

        Path out = dir.resolve("fractions");
        Result r = run("evaluate", "--checkpoint", runDir.resolve("checkpoints/train").toString(), "--dataset",
                dataset.toString(), "--label-fractions", "1,0.25", "--seeds", "2", "--out", out.toString());
        assertEquals(0, r.code, r.err + r.out);
        List<String> rows = r.out.lines().filter(l -> l.contains(" fraction ")).toList();
        assertEquals(4, rows.size(), r.out);
        assertTrue(rows.get(0).startsWith("pre-trained  fraction 0.25   tag_roc_auc "), rows.get(0));
        assertTrue(rows.get(1).startsWith("pre-trained  fraction 1      tag_roc_auc "), rows.get(1));
        assertTrue(rows.get(2).startsWith("random       fraction 0.25 "), rows.get(2));
        assertTrue(rows.get(3).endsWith("(32 training tracks)"), rows.get(3));
        assertTrue(rows.get(3).matches(".*tag_roc_auc 0\\.\\d{4}  tag_pr_auc 0\\.\\d{4}  .*"),
                "one L-BFGS head serves every seed at fraction 1: " + rows.get(3));
        assertTrue(r.out.contains("figure: " + out.resolve("label-fractions.png")), r.out);

        assertNotNull(ImageIO.read(out.resolve("label-fractions.png").toFile()));
        JsonNode json = new ObjectMapper().readTree(out.resolve("label-fractions.json").toFile());
        List<String> points = new ArrayList<>();
        json.get("points").forEach(p -> points.add(p.get("encoder").asText() + "@" + p.get("label_fraction").asDouble()));
        assertEquals(List.of("pre-trained@0.25", "pre-trained@1.0", "random@0.25", "random@1.0"), points);
        for (JsonNode seed : json.get("points").get(0).get("train_tracks")) {
            assertTrue(seed.asInt() >= 8 && seed.asInt() < 32, "a class-balanced quarter of 32 tracks: " + seed);
        }
        assertEquals("[32,32]", json.get("points").get(1).get("train_tracks").toString());
        assertTrue(json.get("points").get(0).get("tag_pr_auc").get("std").asDouble() > 0,
                "two seeds draw two subsets at 0.25: " + json.get("points").get(0));
        for (String report : List.of("pre-trained/fraction-0.25", "pre-trained/fraction-1", "random/fraction-0.25",
                "random/fraction-1")) {
            assertTrue(Files.isRegularFile(out.resolve(report).resolve("report.json")), report);
        }
        assertTrue(Files.isRegularFile(out.resolve("pre-trained/features/train.npy")), "features once per encoder");
        String md = Files.readString(out.resolve("label-fractions.md"));
        assertTrue(md.contains("| random | 1 | 32 | "), md);
        assertTrue(md.contains("[pre-trained/fraction-1/report.md](pre-trained/fraction-1/report.md)"), md);

        Result both = run("evaluate", "--encoder", "random", "--dataset", dataset.toString(), "--label-fraction", "0.5",
                "--label-fractions", "0.1,1", "--out", dir.resolve("x").toString());
        assertEquals(2, both.code, both.err);
        assertTrue(both.err.contains("takes the place of --label-fraction"), both.err);
        Result bad = run("evaluate", "--encoder", "random", "--dataset", dataset.toString(), "--label-fractions", "0,1",
                "--out", dir.resolve("y").toString());
        assertEquals(2, bad.code, bad.err);
        assertTrue(bad.err.contains("every fraction must be in (0, 1]"), bad.err);
    }
}

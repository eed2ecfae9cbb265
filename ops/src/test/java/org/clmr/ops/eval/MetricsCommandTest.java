package org.clmr.ops.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.clmr.ops.Clmr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code clmr metrics} against the scikit-learn numbers of make_metric_fixtures.py. */
class MetricsCommandTest {
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
        int code = cl.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    private Path resource(String name) throws IOException {
        Path p = dir.resolve(name);
        try (InputStream in = getClass().getResourceAsStream("/metrics/" + name)) {
            Files.copy(in, p, StandardCopyOption.REPLACE_EXISTING);
        }
        return p;
    }

    @Test
    void shouldPrintTheFourNumbersScikitLearnGivesAsJson() throws IOException {
        Result r = run("metrics", "--labels", resource("labels.csv").toString(), "--scores", resource("scores.csv").toString(), "--json");
        assertEquals(0, r.code, r.err);
        ObjectMapper mapper = new ObjectMapper();
        JsonNode got = mapper.readTree(r.out);
        JsonNode want = mapper.readTree(Files.readString(resource("expected.json")));
        for (String key : new String[] {"tag_roc_auc", "tag_pr_auc", "clip_roc_auc", "clip_pr_auc"}) {
            assertEquals(want.get(key).asDouble(), got.get(key).asDouble(), 1e-9, key);
        }
    }

    @Test
    void shouldPrintATableWithoutJson() throws IOException {
        Result r = run("metrics", "--labels", resource("labels.csv").toString(), "--scores", resource("scores.csv").toString());
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.contains("tag_roc_auc") && r.out.contains("clip_pr_auc") && r.out.contains("25 clips, 6 tags"), r.out);
    }

    @Test
    void shouldExitOneWithOneLineWhenAClipIsMissing() throws IOException {
        Path scores = resource("scores.csv");
        var lines = Files.readAllLines(scores);
        Files.write(scores, lines.subList(0, lines.size() - 1));
        Result r = run("metrics", "--labels", resource("labels.csv").toString(), "--scores", scores.toString());
        assertEquals(1, r.code);
        assertEquals(1, r.err.strip().lines().count(), r.err);
        assertTrue(r.err.contains("clip ids differ"), r.err);
    }
}

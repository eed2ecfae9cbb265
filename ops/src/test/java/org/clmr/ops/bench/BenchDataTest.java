package org.clmr.ops.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.clmr.data.generate.GeneratedSet;
import org.clmr.ops.Clmr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(120)
class BenchDataTest {

    @Test
    void shouldPrintCropFiguresAsOneJsonObject(@TempDir Path dir) throws Exception {
        Path ds = dir.resolve("ds");
        GeneratedSet.write(ds, 20, 1, 8000, 3, 2, false, Duration.ofSeconds(5));
        CommandLine cl = Clmr.commandLine();
        StringWriter out = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        int code = cl.execute("bench", "data", "--dataset", ds.toString(), "--seconds", "0.2", "--crop", "4000",
                "--threads", "2", "--json");
        assertEquals(0, code);
        JsonNode j = new ObjectMapper().readTree(out.toString());
        assertEquals("data", j.path("benchmark").asText());
        assertEquals(2, j.path("threads").asInt());
        assertEquals(4000, j.path("cropSamples").asInt());
        assertTrue(j.path("cropsPerSecond").asLong() > 0, out.toString());
        assertTrue(j.path("cropsPerSecondPerThread").asLong() > 0, out.toString());
        assertTrue(j.path("pipelineViewsPerSecond").asLong() > 0, out.toString());
    }
}

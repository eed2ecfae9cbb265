package org.clmr.ops.bench;

import org.clmr.ops.Clmr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BenchAugmentTest {

    @Test
    @Timeout(120)
    void shouldPrintOneJsonObjectWithEveryFigure() {
        CommandLine cl = Clmr.commandLine();
        StringWriter out = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        int code = cl.execute("bench", "augment", "--json", "--seconds", "0.02", "--crops", "2", "--crop-length", "8192");
        assertEquals(0, code);
        String json = out.toString().strip();
        assertTrue(json.startsWith("{") && json.endsWith("}") && json.lines().count() == 1, json);
        for (String key : new String[] {"\"polarity\":", "\"pitch\":", "\"reverb\":", "\"chain (default probabilities)\":",
                "\"pitch +3 semitones\":", "\"reverb 50 50 50\":"}) {
            assertTrue(json.contains(key), key + " missing from " + json);
        }
        boolean sox = java.util.Arrays.stream(System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
                        .anyMatch(d -> Files.isExecutable(Path.of(d, "sox")));
        assertEquals(sox, json.contains("\"sox\":true"), json);
        if (sox) {
            assertTrue(json.matches(".*\"sox_crops_per_second\":\\{\"pitch \\+3 semitones\":[0-9.]+,\"reverb 50 50 50\":[0-9.]+}.*"),
                    json);
        }
    }
}

package org.clmr.ops.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.clmr.ops.Clmr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(60)
class BenchModelTest {

    @Test
    void shouldPrintItsFiguresAsOneJsonObject() throws Exception {
        CommandLine cl = Clmr.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute("bench", "model", "--preset", "tiny", "--projection-dim", "16", "--batch", "2",
                "--iterations", "1", "--warmup", "0", "--no-torch", "--json");
        assertEquals(0, code, err.toString());
        JsonNode o = new ObjectMapper().readTree(out.toString().strip());
        assertEquals("tiny", o.get("preset").asText());
        for (String k : new String[] {"forward_ms_per_waveform", "forward_backward_ms_per_waveform",
                "step_ms_per_waveform", "whole_graph_forward_backward_ms_per_waveform"}) {
            assertTrue(o.get("djl").get(k).asDouble() > 0, k);
        }
        assertEquals("skipped (--no-torch)", o.get("pytorch").asText());
    }
}

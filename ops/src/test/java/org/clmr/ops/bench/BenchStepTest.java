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

@Timeout(120)
class BenchStepTest {

    @Test
    void shouldPrintPhasesAndTheSegmentationOverheadAsOneJsonObject() throws Exception {
        CommandLine cl = Clmr.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute("bench", "step", "--preset", "tiny", "--projection-dim", "16", "--ranks", "3",
                "--batch", "5", "--iterations", "1", "--warmup", "0", "--json");
        assertEquals(0, code, err.toString());
        JsonNode o = new ObjectMapper().readTree(out.toString().strip());
        assertEquals("tiny", o.get("preset").asText());
        assertTrue(o.get("whole_graph_step_ms").asDouble() > 0);
        assertTrue(o.get("segmented_step_ms").asDouble() > 0);
        assertEquals(3, o.get("rank_ms").size());
        assertEquals("[2,2,1]", o.get("shares").toString());
        for (JsonNode r : o.get("rank_ms")) {
            assertTrue(r.get("forward").asDouble() > 0 && r.get("backward").asDouble() > 0
                    && r.get("communication").asDouble() > 0, r.toString());
        }
    }
}

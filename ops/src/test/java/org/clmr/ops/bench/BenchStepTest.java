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

    @Test
    void shouldTakeTheStepOverAeronWithAndWithoutFrameMacsAndSayWhatTheyCost() throws Exception {
        CommandLine cl = Clmr.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute("bench", "step", "--preset", "tiny", "--projection-dim", "16", "--ranks", "2",
                "--batch", "4", "--iterations", "2", "--warmup", "0", "--max-warmup", "1", "--auth", "on,off", "--json");
        assertEquals(0, code, err.toString());
        JsonNode o = new ObjectMapper().readTree(out.toString().strip());
        assertEquals("aeron-ipc", o.get("exchange").asText());
        for (String mode : new String[] {"on", "off"}) {
            JsonNode ranks = o.get("rank_ms_by_auth").get(mode);
            assertEquals(2, ranks.size(), mode);
            for (JsonNode r : ranks) {
                assertTrue(r.get("communication").asDouble() > 0 && r.get("total").asDouble() > 0, r.toString());
            }
        }
        assertEquals(o.get("rank_ms"), o.get("rank_ms_by_auth").get("on"), "the first mode named is the main figure");
        assertTrue(Double.isFinite(o.get("mac_cost_percent").asDouble()), o.toString());
        assertTrue(Double.isFinite(o.get("mac_cost_cpu_percent").asDouble()), o.toString());
        assertTrue(o.get("rank_cpu_ms_by_auth").get("on").get(1).asDouble() > 0, o.toString());

        assertEquals(2, cl.execute("bench", "step", "--preset", "tiny", "--ranks", "1", "--batch", "2", "--auth", "on"));
        assertTrue(err.toString().contains("--auth") && err.toString().contains("needs --ranks >= 2"), err.toString());
    }
}

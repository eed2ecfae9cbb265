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

    /**
     * Over Aeron (IPC, and UDP on loopback) the ranks report what a step moves: one batch-norm exchange per
     * layer and pass (the tiny preset has 8 layers), gradient buckets, transfers, the exposed share of the
     * step, and no growth of the managed native resources over the timed steps.
     */
    @Test
    void shouldReportWhatAStepMovesOverAeron() throws Exception {
        for (String transport : new String[] {"ipc", "udp"}) {
            CommandLine cl = Clmr.commandLine();
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            cl.setOut(new PrintWriter(out, true));
            cl.setErr(new PrintWriter(err, true));
            int code = cl.execute("bench", "step", "--preset", "tiny", "--projection-dim", "16", "--ranks", "2",
                    "--batch", "4", "--iterations", "2", "--warmup", "0", "--transport", transport,
                    "--bucket-elements", "5000", "--json");
            assertEquals(0, code, err.toString());
            JsonNode o = new ObjectMapper().readTree(out.toString().strip());
            assertEquals(transport, o.get("transport").asText());
            assertTrue(o.get("ranks_run_as").asText().contains("Aeron"), o.toString());
            assertEquals(16.0, o.get("small_collectives_per_step").asDouble(), o.toString());
            assertTrue(o.get("transfers_per_step").asDouble() > 0 && o.get("transfer_bytes_per_step").asDouble() > 0);
            double exposed = o.get("exposed_communication_percent").asDouble();
            assertTrue(exposed > 0 && exposed < 100, o.toString());
            assertEquals(0, o.get("native_resources_growth").asInt(), o.toString());
            assertTrue(o.has("rss_growth_bytes"));
            for (JsonNode r : o.get("rank_traffic")) {
                assertTrue(r.get("buckets_per_step").asDouble() >= 2, r.toString());
                assertTrue(r.get("communication_thread_busy_ms_per_step").asDouble() > 0, r.toString());
            }
        }
    }
}

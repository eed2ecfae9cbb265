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
        assertEquals("[]", o.get("auth").toString(), "in-process ranks exchange no frames");
        for (JsonNode r : o.get("rank_ms")) {
            assertTrue(r.get("forward").asDouble() > 0 && r.get("backward").asDouble() > 0
                    && r.get("communication").asDouble() > 0, r.toString());
        }
    }

    /**
     * Over Aeron (IPC, and UDP on loopback) the ranks report what a step moves: one batch-norm exchange per
     * layer and pass (the tiny preset has 8 layers), gradient buckets, transfers, the exposed share of the
     * step, and no growth of the managed native resources over the timed steps; their frames carry a MAC
     * unless told otherwise.
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
            assertEquals("[\"on\"]", o.get("auth").toString());
            assertTrue(o.get("ranks_run_as").asText().endsWith("frames with a MAC"), o.toString());
            assertEquals(o.get("rank_ms"), o.get("rank_ms_by_auth").get("on"));
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

    @Test
    void shouldTakeTheStepOverAeronWithAndWithoutFrameMacsAndSayWhatTheyCost() throws Exception {
        CommandLine cl = Clmr.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute("bench", "step", "--preset", "tiny", "--projection-dim", "16", "--ranks", "2",
                "--batch", "4", "--iterations", "2", "--warmup", "0", "--max-warmup", "1", "--transport", "ipc",
                "--auth", "on,off", "--json");
        assertEquals(0, code, err.toString());
        JsonNode o = new ObjectMapper().readTree(out.toString().strip());
        assertEquals("ipc", o.get("transport").asText());
        assertEquals("[\"on\",\"off\"]", o.get("auth").toString());
        assertTrue(o.get("ranks_run_as").asText().contains("alternating"), o.toString());
        for (String mode : new String[] {"on", "off"}) {
            JsonNode ranks = o.get("rank_ms_by_auth").get(mode);
            assertEquals(2, ranks.size(), mode);
            for (JsonNode r : ranks) {
                assertTrue(r.get("communication").asDouble() > 0 && r.get("total").asDouble() > 0, r.toString());
            }
            JsonNode cpu = o.get("rank_cpu_ms_by_auth").get(mode);
            assertEquals(2, cpu.size(), mode);
            for (JsonNode c : cpu) {
                assertTrue(c.asDouble() > 0, o.toString());
            }
        }
        assertEquals(o.get("rank_ms"), o.get("rank_ms_by_auth").get("on"), "the first mode named is the main figure");
        assertEquals(o.get("rank_cpu_ms"), o.get("rank_cpu_ms_by_auth").get("on"));
        assertTrue(Double.isFinite(o.get("mac_cost_percent").asDouble()), o.toString());
        assertTrue(Double.isFinite(o.get("mac_cost_cpu_percent").asDouble()), o.toString());
        assertTrue(o.get("rank_cpu_ms_by_auth").get("on").get(1).asDouble() > 0, o.toString());
        assertEquals(16.0, o.get("small_collectives_per_step").asDouble(), "each generation steps in full");

        assertEquals(2, cl.execute("bench", "step", "--preset", "tiny", "--ranks", "1", "--batch", "2",
                "--transport", "ipc", "--auth", "on"));
        assertTrue(err.toString().contains("--auth") && err.toString().contains("needs --ranks >= 2"), err.toString());
        assertEquals(2, cl.execute("bench", "step", "--preset", "tiny", "--ranks", "2", "--auth", "off"));
        assertTrue(err.toString().contains("--transport ipc or udp") && err.toString().contains("got --ranks 2 and"
                + " --transport inproc"), err.toString());
        assertEquals(2, cl.execute("bench", "step", "--preset", "tiny", "--transport", "udp", "--auth", "maybe"));
        assertTrue(err.toString().contains("must be on, off, on,off or off,on"), err.toString());
    }

    @Test
    void shouldPrintTheMacCostAndEachModesLeastCpuTimeAsText() {
        CommandLine cl = Clmr.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute("bench", "step", "--preset", "tiny", "--projection-dim", "16", "--ranks", "2",
                "--batch", "2", "--iterations", "1", "--warmup", "0", "--max-warmup", "1", "--transport", "udp",
                "--auth", "off,on");
        assertEquals(0, code, err.toString());
        String text = out.toString();
        for (String line : new String[] {"rank 1/2 (1) mac off", "rank 1/2 (1) mac on", "per step, rank 0 mac on:",
                "least CPU time of a step, mac off: [", "least CPU time of a step, mac on: [", "frame MAC cost: "}) {
            assertTrue(text.contains(line), line + " in\n" + text);
        }
        assertTrue(text.indexOf("mac off") < text.indexOf("mac on"), "the first mode named comes first:\n" + text);
    }
}

package org.clmr.ops.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.clmr.ops.Clmr;
import org.clmr.protocol.config.SettingsException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BenchAllReduceTest {
    @Test
    void shouldParseDecimalAndBinarySizes() {
        assertEquals(40_000_000L, BenchAllReduce.parseSize("--bytes", "40MB"));
        assertEquals(4096L, BenchAllReduce.parseSize("--bytes", "4KiB"));
        assertEquals(16L << 20, BenchAllReduce.parseSize("--bytes", "16MiB"));
        assertEquals(123L, BenchAllReduce.parseSize("--bytes", "123"));
        assertThrows(SettingsException.class, () -> BenchAllReduce.parseSize("--bytes", "ten"));
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void shouldReportEverySizeAndTheSmallLatencyAsJson() throws Exception {
        CommandLine cl = Clmr.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute("bench", "allreduce", "--ranks", "2", "--bytes", "64KB,300KB", "--transport", "ipc",
                "--iterations", "3", "--latency-iterations", "50", "--rounds", "2", "--no-gloo", "--json");
        assertEquals(0, code, err.toString());
        JsonNode json = new ObjectMapper().readTree(out.toString());
        assertEquals(2, json.get("sizes").size());
        assertEquals(300_000, json.get("sizes").get(1).get("bytes").asLong());
        double alg = json.get("sizes").get(1).get("algbw_gbps").asDouble();
        assertEquals(alg, json.get("sizes").get(1).get("busbw_gbps").asDouble(), 1e-9, "2(N-1)/N = 1 for two ranks");
        assertTrue(json.get("lat_4k_p50_us").asDouble() > 0);
        assertEquals(2, json.get("rounds").asInt());
        assertTrue(json.get("sizes").get(1).get("cpu_ms").asDouble() > 0, "CPU time per all-reduce of rank 0's process");
        assertEquals("--no-gloo", json.get("gloo_skipped").asText());
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void shouldMeasureFramesWithAndWithoutTheirMacInTheSameRun() throws Exception {
        CommandLine cl = Clmr.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute("bench", "allreduce", "--ranks", "2", "--bytes", "300KB", "--transport", "ipc",
                "--iterations", "3", "--latency-iterations", "50", "--rounds", "1", "--no-gloo", "--auth", "on,off", "--json");
        assertEquals(0, code, err.toString());
        JsonNode json = new ObjectMapper().readTree(out.toString());
        assertEquals("[\"on\",\"off\"]", json.get("auth").toString());
        JsonNode on = json.get("by_auth").get("on");
        JsonNode off = json.get("by_auth").get("off");
        assertEquals(on.get("sizes"), json.get("sizes"), "the first mode named is the main figure");
        assertTrue(on.get("lat_4k_p50_us").asDouble() > 0 && off.get("lat_4k_p50_us").asDouble() > 0);
        assertTrue(off.get("sizes").get(0).get("median_ms").asDouble() > 0);
        JsonNode row = on.get("sizes").get(0);
        double cost = row.get("median_ms").asDouble() / off.get("sizes").get(0).get("median_ms").asDouble() - 1;
        assertEquals(cost, row.get("mac_cost").asDouble(), 1e-9, "one round: its own ratio");

        assertEquals(2, cl.execute("bench", "allreduce", "--auth", "maybe"));
        assertTrue(err.toString().contains("--auth"), err.toString());
        assertEquals(List.of("off", "on"), BenchAllReduce.parseAuth("off, on"));
    }
}

package org.clmr.ops.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class PrometheusTargetsTest {
    private final ObjectMapper json = new ObjectMapper();

    @Test
    void shouldListTheCoordinatorAndTheWorkersUnderTheirJobsAndEmptyTheListWhenCleared(@TempDir Path runDir)
            throws Exception {
        PrometheusTargets.write(runDir, "127.0.0.1:9460", List.of());
        assertEquals(1, json.readTree(PrometheusTargets.file(runDir).toFile()).size());

        PrometheusTargets.write(runDir, "127.0.0.1:9460", List.of("127.0.0.1:40001", "127.0.0.1:40002"));
        JsonNode groups = json.readTree(runDir.resolve("prometheus/targets.json").toFile());
        assertEquals(2, groups.size());
        assertEquals("127.0.0.1:9460", groups.get(0).get("targets").get(0).asText());
        assertEquals("clmr-coordinator", groups.get(0).get("labels").get("job").asText());
        assertEquals(List.of("127.0.0.1:40001", "127.0.0.1:40002"),
                List.of(groups.get(1).get("targets").get(0).asText(), groups.get(1).get("targets").get(1).asText()));
        assertEquals("clmr-worker", groups.get(1).get("labels").get("job").asText());
        try (var files = Files.list(runDir.resolve("prometheus"))) {
            assertEquals(List.of(PrometheusTargets.file(runDir)), files.toList(), "no temporary file left behind");
        }

        PrometheusTargets.clear(runDir);
        assertEquals(0, json.readTree(PrometheusTargets.file(runDir).toFile()).size());
    }

    @Test
    void shouldFindTheEndpointALineOfAWorkerLogNames() {
        var m = PrometheusTargets.WORKER_METRICS.matcher(
                "01:55:58.644 INFO  MetricsEndpoint - metrics: http://10.0.0.7:41893/metrics\n");
        assertEquals(true, m.find());
        assertEquals("10.0.0.7:41893", m.group(1));
        assertFalse(PrometheusTargets.WORKER_METRICS.matcher("status:  http://10.0.0.7:9460/status").find());
    }
}

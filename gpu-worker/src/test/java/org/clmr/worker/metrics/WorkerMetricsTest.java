package org.clmr.worker.metrics;

import ai.djl.Device;
import org.clmr.protocol.UserError;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.worker.collective.CollectiveMetrics;
import org.clmr.worker.step.DistributedStep.Phases;
import org.clmr.worker.step.DistributedStep.Result;
import org.clmr.worker.step.DistributedStep;
import org.clmr.worker.step.ViewPairs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(30)
class WorkerMetricsTest {
    private static final String ID = "device=\"cpu\",worker=\"10.0.0.7/cpu/42\"";

    /** The labels in exposition order (sorted by name), {@code extra} between device and worker. */
    private static String with(String extra) {
        return "device=\"cpu\"," + extra + ",worker=\"10.0.0.7/cpu/42\"";
    }

    private static WorkerMetrics metrics() {
        return new WorkerMetrics("10.0.0.7/cpu/42", "cpu", "10.0.0.7", new CollectiveMetrics(), DeviceMemory.of(Device.cpu()));
    }

    private static String scrape(MetricsEndpoint e) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(e.url())).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        return r.body();
    }

    private static double value(String text, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(text);
        assertTrue(m.find(), "no sample " + series + " in\n" + text);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void shouldServeStepPhasesLossThroughputAndMembershipOverHttp() throws Exception {
        WorkerMetrics m = metrics();
        m.generation(3, 1, 2, 5);
        long ms = 1_000_000;
        m.step(8, 0, 5, new Result(4.25, true, null, new Phases(100 * ms, 200 * ms, 5 * ms, 50 * ms, 300 * ms, 20 * ms)), 0.5);
        m.step(9, 1, 5, new Result(Double.NaN, false, "non-finite loss NaN", new Phases(ms, ms, ms, ms, 0, ms)), 0.25);
        try (MetricsEndpoint e = MetricsEndpoint.start("127.0.0.1", 0, m.registry())) {
            assertTrue(e.port() > 0);
            String text = scrape(e);
            assertEquals(3, value(text, "clmr_worker_generation{" + ID + "}"));
            assertEquals(1, value(text, "clmr_worker_rank{" + ID + "}"));
            assertEquals(2, value(text, "clmr_worker_world_size{" + ID + "}"));
            assertEquals(5, value(text, "clmr_worker_share_tracks{" + ID + "}"));
            assertEquals(9, value(text, "clmr_worker_step{" + ID + "}"));
            assertEquals(1, value(text, "clmr_worker_epoch{" + ID + "}"));
            assertTrue(Double.isNaN(value(text, "clmr_worker_loss{" + ID + "}")), "the last step's loss");
            assertEquals(20, value(text, "clmr_worker_samples_per_second{" + ID + "}"), 1e-9);
            assertEquals(10, value(text, "clmr_worker_samples_total{" + ID + "}"));
            assertEquals(2, value(text, "clmr_worker_steps_total{" + ID + "}"));
            assertEquals(1, value(text, "clmr_worker_nonfinite_steps_total{" + ID + "}"));
            assertEquals(0.101, value(text, "clmr_worker_step_phase_seconds_sum{" + with("phase=\"data\"") + "}"), 1e-9);
            assertEquals(0.3, value(text, "clmr_worker_step_phase_seconds_sum{" + with("phase=\"backward\"") + "}"), 1e-9);
            assertEquals(2, value(text, "clmr_worker_step_phase_seconds_count{" + with("phase=\"optimizer\"") + "}"));
            assertEquals(0.75, value(text, "clmr_worker_step_seconds_sum{" + ID + "}"), 1e-9);
            assertEquals(1, value(text, "clmr_worker_step_seconds_bucket{" + ID + ",le=\"0.256\"}"));
            assertEquals(0, value(text, "clmr_worker_collective_timeouts_total{" + ID + "}"));
            assertEquals(0, value(text, "clmr_worker_collective_bytes_total{" + with("direction=\"sent\"") + "}"));
            for (String reason : new String[] {"malformed", "other_run", "other_generation", "stale_op", "bad_mac", "ahead",
                    "mismatch", "crc"}) {
                assertEquals(0, value(text, "clmr_worker_collective_frames_rejected_total{"
                        + with("reason=\"" + reason + "\"") + "}"), reason);
            }
            assertEquals(1, value(text, "clmr_worker_info{" + with("host=\"10.0.0.7\",version=\""
                    + org.clmr.protocol.BuildInfo.version() + "\"") + "}"));
            double used = value(text, "clmr_worker_device_memory_used_bytes{" + ID + "}");
            double total = value(text, "clmr_worker_device_memory_total_bytes{" + ID + "}");
            assertTrue(used > 1e6 && used < total, "resident " + used + " of " + total);
            assertTrue(text.contains("jvm_memory_used_bytes{"), "JVM metrics too");
        }
    }

    @Test
    void shouldCountAFailedBatchAsADataErrorAndStillFailTheStep() throws Exception {
        WorkerMetrics m = metrics();
        IllegalStateException broken = new IllegalStateException("could not assemble batch");
        DistributedStep.ShareLoader ok = m.countingDataErrors((offset, count) -> new ViewPairs(count, 3, new float[3 * count],
                new float[3 * count]));
        assertEquals(2, ok.load(0, 2).batch());
        DistributedStep.ShareLoader failing = m.countingDataErrors((offset, count) -> {
            throw broken;
        });
        assertSame(broken, assertThrows(IllegalStateException.class, () -> failing.load(0, 2)));
        try (MetricsEndpoint e = MetricsEndpoint.start("127.0.0.1", 0, m.registry())) {
            assertEquals(1, value(scrape(e), "clmr_worker_data_errors_total{" + ID + "}"));
        }
    }

    @Test
    void shouldRefuseAPortInUseWithAOneLineErrorNamingTheSetting() {
        try (MetricsEndpoint first = MetricsEndpoint.start("127.0.0.1", 0, metrics().registry())) {
            UserError e = assertThrows(UserError.class,
                    () -> MetricsEndpoint.start("127.0.0.1", first.port(), metrics().registry()));
            assertTrue(e.getMessage().contains("clmr.worker.metrics.port"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
    }

    @Test
    void shouldListenOnTheClusterHostUnlessAMetricsHostIsSet() {
        MetricsSettings defaults = MetricsSettings.from(ClmrConfig.load(null, List.of()));
        assertEquals(0, defaults.port());
        assertEquals("10.1.2.3", defaults.hostOr("10.1.2.3"));
        MetricsSettings set = MetricsSettings.from(ClmrConfig.load(null, List.of("worker.metrics.host=0.0.0.0",
                "worker.metrics.port=9471")));
        assertEquals("0.0.0.0", set.hostOr("10.1.2.3"));
        assertEquals(9471, set.port());
    }
}

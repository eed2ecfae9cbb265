package org.clmr.ops.monitoring;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.clmr.data.generate.GeneratedSet;
import org.clmr.ops.Clmr;
import org.clmr.ops.cluster.PrometheusTargets;
import org.clmr.protocol.security.ControlToken;
import org.clmr.protocol.security.ThrowawayKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A real scrape: Debian's Prometheus server, on loopback with the shipped ops/prometheus/prometheus.yml
 * (its file_sd path pointed at the run directory, 1 s intervals) and alerts.yml, scrapes a local cluster
 * of a coordinator and 2 workers ({@code clmr train --workers 2}, tiny preset) found through the
 * {@code targets.json} the cluster writes; the test queries its HTTP API until the run's loss,
 * samples/s and generation series are there and the alert rules are loaded. On the same cluster, every
 * metric name that ops/grafana/clmr.json's queries and alerts.yml use must be exposed by the running
 * coordinator or a worker, and every dashboard query must be valid PromQL to the server. Skipped,
 * saying so, where {@code prometheus} is not installed.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class PrometheusScrapeTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(150);

    @Test
    void shouldScrapeALocalClusterAndFindEveryMetricTheDashboardAndAlertsUse() throws Exception {
        Path prometheus = Tools.require("prometheus");
        Path dir = Files.createTempDirectory(Files.createDirectories(Path.of("target")), "clmr-scrape-").toAbsolutePath();
        Path dataset = dir.resolve("dataset");
        GeneratedSet.write(dataset, 16, 7, 22050, 1.0, 2, false, Duration.ofSeconds(30));
        Path runDir = dir.resolve("run");
        Path targets = PrometheusTargets.file(runDir);
        Path promDir = Files.createDirectories(dir.resolve("prometheus"));
        String shipped = Files.readString(Tools.CONFIG);
        String config = shipped.replace("../../clmr-run/prometheus/targets.json", targets.toString())
                .replace("scrape_interval: 15s", "scrape_interval: 1s")
                .replace("evaluation_interval: 15s", "evaluation_interval: 1s");
        assertTrue(config.contains(targets.toString()) && config.contains("scrape_interval: 1s"),
                "prometheus.yml no longer has the local file_sd path or the 15s interval this test rewrites");
        // the control token is the local cluster's (Prometheus reads the file at every scrape, once it exists)
        Tools.configWithSecrets(promDir, config, runDir.resolve(ThrowawayKeys.DIR).resolve("control-token"));
        // the directories exist before the server starts, so it watches them (not only re-reads every 30 s)
        Files.createDirectories(targets.getParent());
        Files.createDirectories(promDir.resolve("targets"));
        String api = "http://127.0.0.1:" + freePort();
        Process server = new ProcessBuilder(prometheus.toString(), "--config.file=" + promDir.resolve("prometheus.yml"),
                "--storage.tsdb.path=" + promDir.resolve("data"), "--web.listen-address=" + api.substring(7),
                "--log.level=warn").redirectErrorStream(true).redirectOutput(promDir.resolve("prometheus.log").toFile())
                .start();
        StringWriter out = new StringWriter();
        CompletableFuture<Integer> run = new CompletableFuture<>();
        Thread trainer = new Thread(() -> {
            CommandLine cl = Clmr.commandLine();
            cl.setOut(new PrintWriter(out, true));
            cl.setErr(new PrintWriter(out, true));
            run.complete(cl.execute("train", "--dataset", dataset.toString(), "--workers", "2", "--preset", "tiny",
                    "--batch", "4", "--epochs", "100", "--run-dir", runDir.toString(),
                    "--set", "run.model.projection-dim=16", "--set", "worker.threads=1",
                    "--set", "run.checkpoint.every-steps=2",
                    // the run is started by one ask; on a machine loaded by parallel builds 5 s was too short
                    "--set", "coordinator.ask-timeout=30s"));
        }, "clmr-train");
        trainer.setDaemon(true);
        trainer.start();
        try {
            JsonNode groups = awaitTargets(targets, run, out);
            String coordinator = groups.get(0).get("targets").get(0).asText();
            String worker = groups.get(1).get("targets").get(0).asText();

            awaitSeries(api, "up{job=\"clmr-coordinator\"} == 1", 1, run, out);
            awaitSeries(api, "up{job=\"clmr-worker\"} == 1", 2, run, out);
            awaitSeries(api, "clmr_worker_loss", 2, run, out);
            awaitSeries(api, "clmr_worker_samples_per_second > 0", 2, run, out);
            awaitSeries(api, "clmr_generation >= 1", 1, run, out);
            String rules = get(api + "/api/v1/rules");
            for (String alert : Tools.alertNames()) {
                assertTrue(rules.contains("\"name\":\"" + alert + "\""), alert + " is not loaded: " + rules);
            }
            assertFalse(rules.contains("\"health\":\"err\""), rules);

            Set<String> used = new TreeSet<>(Tools.dashboardMetrics());
            used.addAll(Tools.alertMetrics());
            assertTrue(used.contains("clmr_worker_step_phase_seconds_sum") && used.contains("clmr_generation"), used.toString());
            Set<String> missing = awaitExposed(used, List.of(coordinator, worker));
            assertTrue(missing.isEmpty(), "used by ops/grafana/clmr.json or ops/prometheus/alerts.yml but exposed by "
                    + "neither the coordinator " + coordinator + " nor the worker " + worker + ": " + missing);

            for (String expr : dashboardQueries()) {
                String q = expr.replace("$__rate_interval", "1m").replace("$worker", ".*");
                JsonNode r = JSON.readTree(get(api + "/api/v1/query?query=" + URLEncoder.encode(q, StandardCharsets.UTF_8)));
                assertEquals("success", r.path("status").asText(), "dashboard query " + expr + ": " + r);
            }

            post("http://" + coordinator + "/control/stop", ThrowawayKeys.inRunDir(runDir).token());
            run.get(120, TimeUnit.SECONDS);
            assertEquals(0, JSON.readTree(targets.toFile()).size(), "targets are emptied when the cluster stops");
        } finally {
            server.destroy();
            if (!server.waitFor(20, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
            trainer.interrupt();
        }
    }

    /** The PromQL of every dashboard panel and annotation. */
    private static List<String> dashboardQueries() throws IOException {
        List<String> out = new ArrayList<>();
        collectExprs(JSON.readTree(Tools.DASHBOARD.toFile()), out);
        assertTrue(out.size() >= 10, "dashboard queries: " + out);
        return out;
    }

    private static void collectExprs(JsonNode node, List<String> out) {
        if (node.isObject()) {
            node.fields().forEachRemaining(e -> {
                if (e.getKey().equals("expr") && e.getValue().isTextual()) {
                    out.add(e.getValue().asText());
                } else {
                    collectExprs(e.getValue(), out);
                }
            });
        } else if (node.isArray()) {
            node.forEach(n -> collectExprs(n, out));
        }
    }

    /** Waits until targets.json lists the coordinator and both workers. */
    private static JsonNode awaitTargets(Path targets, CompletableFuture<Integer> run, StringWriter out) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(targets)) {
                JsonNode groups = JSON.readTree(targets.toFile());
                if (groups.size() == 2 && groups.get(1).get("targets").size() == 2) {
                    assertEquals(PrometheusTargets.COORDINATOR_JOB, groups.get(0).get("labels").get("job").asText());
                    assertEquals(PrometheusTargets.WORKER_JOB, groups.get(1).get("labels").get("job").asText());
                    return groups;
                }
            }
            stillRunning(run, out);
            Thread.sleep(500);
        }
        return fail("the local cluster did not list its 3 metrics endpoints in " + targets + " within " + WAIT + "\n" + out);
    }

    /** Waits until the instant query returns at least {@code n} series. */
    private static void awaitSeries(String api, String query, int n, CompletableFuture<Integer> run, StringWriter out)
            throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            try {
                last = get(api + "/api/v1/query?query=" + URLEncoder.encode(query, StandardCharsets.UTF_8));
                JsonNode r = JSON.readTree(last);
                if ("success".equals(r.path("status").asText()) && r.path("data").path("result").size() >= n) {
                    return;
                }
            } catch (IOException e) {
                last = e.toString();  // the server is still starting
            }
            stillRunning(run, out);
            Thread.sleep(500);
        }
        fail("Prometheus did not return " + n + " series for " + query + " within " + WAIT + ": " + last + "\n" + out);
    }

    /** Scrapes the endpoints until every name is exposed (or the wait is over); returns those still missing. */
    private static Set<String> awaitExposed(Set<String> names, List<String> endpoints) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        Set<String> missing = new TreeSet<>(names);
        while (true) {
            Set<String> exposed = new TreeSet<>();
            for (String e : endpoints) {
                exposed.addAll(sampleNames(get("http://" + e + "/metrics")));
            }
            missing.removeAll(exposed);
            if (missing.isEmpty() || System.nanoTime() > deadline) {
                return missing;
            }
            Thread.sleep(1000);
        }
    }

    /** The names of the samples in a text exposition (histograms as name_bucket, name_sum, name_count). */
    private static List<String> sampleNames(String text) {
        List<String> names = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (!line.isEmpty() && !line.startsWith("#")) {
                int end = line.indexOf('{');
                names.add(line.substring(0, end >= 0 ? end : line.indexOf(' ')));
            }
        }
        return names;
    }

    private static void stillRunning(CompletableFuture<Integer> run, StringWriter out) {
        if (run.isDone()) {
            fail("clmr train --workers 2 ended early (exit " + run.getNow(-1) + "):\n" + out);
        }
    }

    private static String get(String url) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private static void post(String url, ControlToken token) throws IOException, InterruptedException {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .header("Authorization", token.authorization()).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), url + ": " + r.body());
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}

package org.clmr.ops.cluster;

import com.typesafe.config.Config;
import org.clmr.coordinator.CoordinatorNode;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.security.ThrowawayKeys;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The training run of the coordinator's class-data archive. A restarted coordinator spends most of its way back to
 * the first step loading, verifying and linking classes (Akka, Artery on TLS, Slick and the JDBC journal, H2,
 * Jackson, the HTTP endpoint); the {@code clmr} launcher runs this class once per build under
 * {@code -XX:ArchiveClassesAtExit}, and every coordinator JVM started from that build maps the archived classes
 * instead ({@code -XX:SharedArchiveFile}, see {@code JvmFlags#forCommand}). A JVM whose class path does not match
 * the archive's ignores it.
 *
 * <p>It does what a coordinator restart does, in a temporary run directory on throw-away keys: a node starts (H2,
 * the journal, Artery on mutual TLS, HTTP), a run is started over HTTP with the control token and the node stops;
 * a second node recovers that run from the journal, serves status and metrics, and stops. Runs on the main thread;
 * exits non-zero when a step fails (the launcher then keeps no archive).
 */
public final class CoordinatorClassData {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private CoordinatorClassData() {
    }

    /** {@code args[0]}: an empty or absent directory to run in (the caller removes it). */
    public static void main(String[] args) throws IOException, InterruptedException {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: CoordinatorClassData DIR (a scratch directory)");
        }
        Path runDir = Files.createDirectories(Path.of(args[0]));
        ThrowawayKeys keys = ThrowawayKeys.inRunDir(runDir);
        List<String> sets = new ArrayList<>(List.of("coordinator.cluster.port=0", "coordinator.http.port=0"));
        sets.addAll(keys.settingOverrides());
        Config config = ClmrConfig.load(null, sets);
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        String authorization = keys.token().authorization();
        try (CoordinatorNode node = CoordinatorNode.start(config, runDir)) {
            send(client, node, "POST", "/control/start?run-id=class-data&dataset-hash=" + "0".repeat(64)
                    + "&tracks=1000", authorization);
        }
        try (CoordinatorNode node = CoordinatorNode.start(config, runDir)) {
            send(client, node, "GET", "/status", authorization);
            send(client, node, "GET", "/metrics", authorization);
        }
    }

    /** Sends one request, asking again while the coordinator recovers (503, or a status without a phase). */
    private static void send(HttpClient client, CoordinatorNode node, String method, String path, String authorization)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (true) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(node.httpUrl() + path))
                    .header("Authorization", authorization).method(method, HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200 && !(path.equals("/status") && !r.body().contains("\"phase\""))) {
                return;
            }
            if ((r.statusCode() != 503 && r.statusCode() != 200) || System.nanoTime() > deadline) {
                throw new IllegalStateException(method + " " + path + " answered " + r.statusCode() + ": " + r.body());
            }
            Thread.sleep(100);
        }
    }
}

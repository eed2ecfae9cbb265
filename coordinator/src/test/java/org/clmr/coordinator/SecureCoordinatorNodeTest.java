package org.clmr.coordinator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.config.SettingsException;
import org.clmr.protocol.http.HttpTls;
import org.clmr.protocol.security.ControlToken;
import org.clmr.protocol.security.PrivateFiles;
import org.clmr.protocol.security.SecuritySettings;
import org.clmr.protocol.security.ThrowawayKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A coordinator node started as a secured one is (throw-away keys, on loopback): its HTTP control plane refuses
 * requests without the control token and leaves the run as it was, checks every value of a request, protects reads
 * when asked, serves HTTPS when asked; its run directory and database are private; and a node bound off loopback
 * without key material, or on an H2 URL with AUTO_SERVER, refuses to start before it binds anything.
 */
@Timeout(120)
class SecureCoordinatorNodeTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private CoordinatorNode start(Path runDir, String... more) {
        ThrowawayKeys keys = ThrowawayKeys.inRunDir(runDir);
        List<String> sets = new ArrayList<>(List.of("run.model.preset=tiny", "run.global-batch=8",
                "coordinator.cluster.port=0", "coordinator.http.port=0"));
        sets.addAll(keys.settingOverrides());
        sets.addAll(List.of(more));
        return CoordinatorNode.start(ClmrConfig.load(null, sets), runDir);
    }

    private static HttpResponse<String> call(HttpClient client, String url, String method, String authorization)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).method(method, HttpRequest.BodyPublishers.noBody());
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String phase(HttpClient client, String base) throws Exception {
        for (int i = 0; i < 20; i++) {
            JsonNode s = JSON.readTree(call(client, base + "/status", "GET", null).body());
            if (s.has("phase")) {
                return s.get("phase").asText();
            }
            Thread.sleep(500);
        }
        throw new AssertionError("the coordinator never answered /status");
    }

    @Test
    void shouldRefuseControlWithoutTheTokenCheckEveryValueAndKeepItsFilesPrivate() throws Exception {
        Path runDir = Files.createDirectories(dir.resolve("run"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwxr-xr-x")));
        try (CoordinatorNode node = start(runDir)) {
            HttpClient client = HttpClient.newHttpClient();
            String base = node.httpUrl();
            String token = ThrowawayKeys.inRunDir(runDir).token().authorization();
            String start = base + "/control/start?run-id=r1&dataset-hash=" + "d".repeat(64) + "&tracks=40";
            assertEquals("IDLE", phase(client, base));
            assertEquals(401, call(client, start, "POST", null).statusCode());
            assertEquals(401, call(client, start, "POST", ControlToken.generate().authorization()).statusCode());
            assertEquals(401, call(client, base + "/control/stop", "POST", null).statusCode());
            assertEquals("IDLE", phase(client, base), "refused requests change nothing");

            for (String bad : List.of("run-id=r1%0AINFO%20forged&dataset-hash=abc&tracks=40",
                    "run-id=r1&dataset-hash=abc&tracks=9223372036854775807", "run-id=r1&dataset-hash=abc&tracks=-1",
                    "run-id=" + "r".repeat(65) + "&dataset-hash=abc&tracks=40", "run-id=r1&dataset-hash=a%0Ab&tracks=40",
                    "run-id=r1&dataset-hash=abc&tracks=1e3")) {
                HttpResponse<String> r = call(client, base + "/control/start?" + bad, "POST", token);
                assertEquals(400, r.statusCode(), bad + ": " + r.body());
                assertEquals(1, r.body().lines().count(), r.body());
                assertTrue(!r.body().contains("forged") && JSON.readTree(r.body()).get("accepted").asBoolean() == false,
                        r.body());
            }
            assertEquals(400, call(client, base + "/control/drain?worker=w%0Ax", "POST", token).statusCode());
            assertEquals("IDLE", phase(client, base));

            HttpResponse<String> ok = call(client, start, "POST", token);
            assertEquals(200, ok.statusCode(), ok.body());
            assertEquals("WAITING_FOR_WORKERS", phase(client, base));
            assertEquals(200, call(client, base + "/metrics", "GET", null).statusCode(), "reads are open by default");

            assertEquals(PrivateFiles.DIRECTORY, Files.getPosixFilePermissions(runDir), "the run directory");
            Path db = runDir.resolve("coordinator.mv.db");
            assertTrue(Files.exists(db), "the default H2 database is in the run directory");
            assertEquals(PrivateFiles.PRIVATE, Files.getPosixFilePermissions(db), "the database");
        }
    }

    @Test
    void shouldProtectReadsAndServeHttpsWhenAsked() throws Exception {
        Path runDir = dir.resolve("https");
        try (CoordinatorNode node = start(runDir, "security.protect-reads=on", "coordinator.http.tls=on")) {
            assertTrue(node.httpUrl().startsWith("https://127.0.0.1:"), node.httpUrl());
            ThrowawayKeys keys = ThrowawayKeys.inRunDir(runDir);
            HttpClient client = HttpClient.newBuilder().sslContext(HttpTls.clientContext(SecuritySettings.from(
                    ClmrConfig.load(null, keys.settingOverrides())).tls()).orElseThrow()).build();
            assertEquals(401, call(client, node.httpUrl() + "/status", "GET", null).statusCode());
            assertEquals(401, call(client, node.httpUrl() + "/metrics", "GET", null).statusCode());
            assertEquals(200, call(client, node.httpUrl() + "/metrics", "GET", keys.token().authorization()).statusCode());
        }
    }

    @Test
    void shouldRefuseToStartOffLoopbackWithoutKeyMaterialOrWithAnAutoServerDatabase() {
        SettingsException open = assertThrows(SettingsException.class, () -> CoordinatorNode.start(ClmrConfig.load(null,
                List.of("coordinator.cluster.host=0.0.0.0", "coordinator.cluster.port=0", "coordinator.http.port=0")),
                dir.resolve("open")));
        assertTrue(open.getMessage().contains("clmr.security.tls.key-dir") && open.getMessage().contains("0.0.0.0"),
                open.getMessage());
        assertTrue(!Files.exists(dir.resolve("open")), "nothing was created before the check");
        SettingsException auto = assertThrows(SettingsException.class, () -> CoordinatorSettings.from(ClmrConfig.load(null,
                List.of("coordinator.database.url=\"jdbc:h2:file:/tmp/x;AUTO_SERVER=TRUE\""))));
        assertTrue(auto.getMessage().contains("clmr.coordinator.database.url") && auto.getMessage().contains("AUTO_SERVER"),
                auto.getMessage());
    }
}

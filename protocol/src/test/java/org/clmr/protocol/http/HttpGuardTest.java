package org.clmr.protocol.http;

import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.security.Binding;
import org.clmr.protocol.security.ControlToken;
import org.clmr.protocol.security.NodeSecurity;
import org.clmr.protocol.security.SecuritySettings;
import org.clmr.protocol.security.ThrowawayKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLHandshakeException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A real JDK HTTP(S) server behind an {@link HttpGuard}: control needs the token, reads need it only with
 * protect-reads, a refused request never reaches its handler and gets 401 with one line of JSON that does not
 * echo what was sent; HTTPS with throw-away keys is trusted by a client that trusts the run CA, and only by it.
 */
class HttpGuardTest {
    @TempDir
    Path dir;

    private static HttpServer serve(HttpGuard guard, Optional<javax.net.ssl.SSLContext> tls, AtomicInteger reached)
            throws IOException {
        HttpServer server = HttpTls.server(new InetSocketAddress("127.0.0.1", 0), tls);
        HttpHandler ok = ex -> {
            reached.incrementAndGet();
            byte[] body = "{\"ok\":true}".getBytes();
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        };
        server.createContext("/control/", guard.guard(HttpGuard.Access.CONTROL, ok));
        server.createContext("/status", guard.guard(HttpGuard.Access.READ, ok));
        server.start();
        return server;
    }

    private static HttpResponse<String> send(HttpClient client, String url, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.noBody());
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void shouldAnswer401WithOneJsonLineAndReachNoHandlerWithoutTheRightToken() throws Exception {
        ControlToken token = ControlToken.generate();
        AtomicInteger reached = new AtomicInteger();
        HttpGuard guard = HttpGuard.of(Optional.of(token), false);
        HttpServer server = serve(guard, Optional.empty(), reached);
        try {
            HttpClient client = HttpClient.newHttpClient();
            String base = "http://127.0.0.1:" + server.getAddress().getPort();
            String wrong = "Bearer " + ControlToken.generate().authorization().substring(7);
            List<HttpResponse<String>> refused = new ArrayList<>();
            refused.add(send(client, base + "/control/stop", null));
            refused.add(send(client, base + "/control/stop", wrong));
            refused.add(send(client, base + "/control/stop", "Basic dXNlcjpwYXNz"));
            for (HttpResponse<String> r : refused) {
                assertEquals(401, r.statusCode(), r.body());
                assertEquals(1, r.body().strip().lines().count(), r.body());
                assertTrue(r.body().startsWith("{\"error\":\"unauthorized\""), r.body());
                assertTrue(r.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"), r.headers().toString());
                assertFalse(r.body().contains(wrong.substring(7)), "the answer echoes the presented token");
            }
            assertEquals(0, reached.get(), "no refused request reached its handler");
            assertEquals(3, guard.refused());
            assertEquals(200, send(client, base + "/control/stop", token.authorization()).statusCode());
            assertEquals(200, send(client, base + "/status", null).statusCode(), "reads are open without protect-reads");
            assertEquals(2, reached.get());
        } finally {
            server.stop(0);
        }
    }

    @Test
    void shouldProtectReadsWhenAskedAndAdmitEverythingWithoutAToken() throws Exception {
        ControlToken token = ControlToken.generate();
        AtomicInteger reached = new AtomicInteger();
        HttpServer guarded = serve(HttpGuard.of(Optional.of(token), true), Optional.empty(), reached);
        HttpServer open = serve(HttpGuard.of(Optional.empty(), false), Optional.empty(), reached);
        try {
            HttpClient client = HttpClient.newHttpClient();
            assertEquals(401, send(client, "http://127.0.0.1:" + guarded.getAddress().getPort() + "/status", null)
                    .statusCode());
            assertEquals(200, send(client, "http://127.0.0.1:" + guarded.getAddress().getPort() + "/status",
                    token.authorization()).statusCode());
            assertEquals(200, send(client, "http://127.0.0.1:" + open.getAddress().getPort() + "/control/stop", null)
                    .statusCode(), "a node without a token (loopback, or insecure = on) is open");
        } finally {
            guarded.stop(0);
            open.stop(0);
        }
    }

    @Test
    void shouldServeHttpsThatOnlyAClientTrustingTheRunCaAccepts() throws Exception {
        ThrowawayKeys keys = ThrowawayKeys.inRunDir(dir.resolve("run"));
        SecuritySettings settings = SecuritySettings.from(ClmrConfig.load(null, keys.settingOverrides()));
        NodeSecurity security = NodeSecurity.open(settings, List.of(new Binding("clmr.coordinator.http.host", "127.0.0.1")));
        AtomicInteger reached = new AtomicInteger();
        HttpServer server = serve(HttpGuard.of(security, settings.controlToken()), HttpTls.serverContext(true, security, "clmr.coordinator.http.tls"),
                reached);
        try {
            String url = "https://127.0.0.1:" + server.getAddress().getPort() + "/control/start";
            HttpClient trusting = HttpClient.newBuilder().sslContext(HttpTls.clientContext(settings.tls()).orElseThrow())
                    .build();
            assertEquals(401, send(trusting, url, null).statusCode());
            assertEquals(200, send(trusting, url, keys.token().authorization()).statusCode());
            ThrowawayKeys other = ThrowawayKeys.inRunDir(dir.resolve("other"));
            HttpClient foreign = HttpClient.newBuilder().sslContext(HttpTls.clientContext(SecuritySettings.from(
                    ClmrConfig.load(null, other.settingOverrides())).tls()).orElseThrow()).build();
            assertThrows(SSLHandshakeException.class, () -> send(foreign, url, keys.token().authorization()));
            assertEquals(1, reached.get());
        } finally {
            server.stop(0);
        }
    }

    @Test
    void shouldTakeUpARotatedTokenFileWithoutARestart() throws Exception {
        ThrowawayKeys keys = ThrowawayKeys.inRunDir(dir.resolve("run"));
        SecuritySettings settings = SecuritySettings.from(ClmrConfig.load(null, keys.settingOverrides()));
        NodeSecurity security = NodeSecurity.open(settings, List.of(new Binding("clmr.coordinator.http.host", "127.0.0.1")));
        ControlToken old = keys.token();
        AtomicInteger reached = new AtomicInteger();
        HttpServer server = serve(HttpGuard.of(security, settings.controlToken()), Optional.empty(), reached);
        try {
            HttpClient client = HttpClient.newHttpClient();
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/control/stop";
            assertEquals(200, send(client, url, old.authorization()).statusCode());
            ControlToken rotated = ControlToken.generate();
            rotated.write(keys.tokenFile(), true);
            java.nio.file.Files.setLastModifiedTime(keys.tokenFile(), java.nio.file.attribute.FileTime.fromMillis(
                    System.currentTimeMillis() + 5000));
            Thread.sleep(1100);
            assertEquals(401, send(client, url, old.authorization()).statusCode(), "the old token after the rotation");
            assertEquals(200, send(client, url, rotated.authorization()).statusCode(), "the new token");
            java.nio.file.Files.writeString(keys.tokenFile(), "too short\n");
            java.nio.file.Files.setLastModifiedTime(keys.tokenFile(), java.nio.file.attribute.FileTime.fromMillis(
                    System.currentTimeMillis() + 10000));
            Thread.sleep(1100);
            assertEquals(200, send(client, url, rotated.authorization()).statusCode(),
                    "a file without a valid token leaves the token before it in force");
        } finally {
            server.stop(0);
        }
    }

    @Test
    void shouldNameTheSettingWhenHttpsIsOnWithoutKeyMaterial() {
        NodeSecurity none = NodeSecurity.open(SecuritySettings.from(ClmrConfig.load(null, List.of())),
                List.of(new Binding("clmr.coordinator.http.host", "127.0.0.1")));
        var e = assertThrows(org.clmr.protocol.config.SettingsException.class,
                () -> HttpTls.serverContext(true, none, "clmr.coordinator.http.tls"));
        assertTrue(e.getMessage().contains("clmr.coordinator.http.tls") && e.getMessage().contains("key-dir"),
                e.getMessage());
        assertTrue(HttpTls.serverContext(false, none, "clmr.coordinator.http.tls").isEmpty());
    }
}

package org.clmr.ops.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import org.clmr.coordinator.CoordinatorSettings;
import org.clmr.protocol.UserError;
import org.clmr.protocol.config.SettingsException;
import org.clmr.protocol.http.HttpTls;
import org.clmr.protocol.security.ControlToken;
import org.clmr.protocol.security.SecuritySettings;
import org.clmr.protocol.security.TlsSettings;
import org.clmr.protocol.security.TokenSource;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;

/**
 * Talks to a coordinator node's HTTP endpoint (GET /status, POST /control/...): with the control token of
 * {@code clmr.security.control-token} (a file, or {@code $CLMR_CONTROL_TOKEN}) in every request when there is one,
 * and over HTTPS trusting the run CA only ({@code clmr.security.tls}) when {@code clmr.coordinator.http.tls} is on or
 * the address says {@code https://}.
 */
final class CoordinatorClient {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String base;
    private final HttpClient http;
    private final Duration timeout;
    private final Optional<ControlToken> token;

    private CoordinatorClient(String base, HttpClient http, Duration timeout, Optional<ControlToken> token) {
        this.base = base;
        this.http = http;
        this.timeout = timeout;
        this.token = token;
    }

    /**
     * A client for {@code target} ({@code HOST:PORT}, {@code http://HOST:PORT} or {@code https://HOST:PORT}), or for
     * the configured {@code clmr.coordinator.http} when null.
     */
    static CoordinatorClient of(String target, Config config) {
        CoordinatorSettings s = CoordinatorSettings.from(config);
        SecuritySettings security = SecuritySettings.from(config);
        String hostPort = target != null ? target : s.httpHost() + ":" + s.httpPort();
        boolean https = s.httpTls();
        if (hostPort.startsWith("https://") || hostPort.startsWith("http://")) {
            https = hostPort.startsWith("https://");
            hostPort = hostPort.substring(hostPort.indexOf("//") + 2);
        }
        if (!hostPort.matches("[^:/\\s]+:[0-9]{1,5}")) {
            throw new SettingsException("--coordinator", hostPort, "must be HOST:PORT, e.g. 127.0.0.1:9460 (or"
                    + " https://HOST:PORT)");
        }
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        if (https) {
            b.sslContext(HttpTls.clientContext(security.tls()).orElseThrow(() -> new SettingsException(
                    TlsSettings.PemDirectory.KEY, "is needed to reach the coordinator over HTTPS: set it to a directory"
                    + " with the run CA's ca.crt (or set key-store and trust-store)")));
        }
        return new CoordinatorClient(HttpTls.scheme(https) + "://" + hostPort, b.build(),
                s.askTimeout().plusSeconds(5), ControlToken.load(security.controlToken()));
    }

    JsonNode get(String path) {
        return send(request(path).GET().build());
    }

    JsonNode post(String path) {
        return send(request(path).POST(HttpRequest.BodyPublishers.noBody()).build());
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout);
        token.ifPresent(t -> b.header("Authorization", t.authorization()));
        return b;
    }

    private JsonNode send(HttpRequest request) {
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            JsonNode body = JSON.readTree(response.body());
            if (response.statusCode() == ControlToken.UNAUTHORIZED) {
                throw new UserError("coordinator at " + base + " refused the request (401, " + body.path("reason").asText()
                        + "): give its control token with " + TokenSource.FILE_KEY + " or $CLMR_CONTROL_TOKEN");
            }
            if (response.statusCode() >= 500 || body.has("error")) {
                throw new UserError("coordinator at " + base + " answered " + response.statusCode() + ": "
                        + (body.has("error") ? body.get("error").asText() : response.body()));
            }
            return body;
        } catch (ConnectException e) {
            throw new UserError("cannot reach a coordinator at " + base + " (connection refused): start one with "
                    + "`clmr coordinator`, or pass --coordinator HOST:PORT of its HTTP endpoint");
        } catch (IOException e) {
            throw new UserError("cannot talk to the coordinator at " + base + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UserError("interrupted while talking to the coordinator at " + base);
        }
    }

    String base() {
        return base;
    }
}

package org.clmr.ops.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import org.clmr.coordinator.CoordinatorSettings;
import org.clmr.protocol.UserError;
import org.clmr.protocol.config.SettingsException;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Talks to a coordinator node's HTTP endpoint (GET /status, POST /control/...). */
final class CoordinatorClient {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String base;
    private final HttpClient http;
    private final Duration timeout;

    private CoordinatorClient(String base, Duration timeout) {
        this.base = base;
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** A client for {@code hostPort} ("HOST:PORT"), or for the configured {@code clmr.coordinator.http} when null. */
    static CoordinatorClient of(String hostPort, Config config) {
        CoordinatorSettings s = CoordinatorSettings.from(config);
        String target = hostPort != null ? hostPort : s.httpHost() + ":" + s.httpPort();
        if (!target.matches("[^:/\\s]+:[0-9]{1,5}")) {
            throw new SettingsException("--coordinator", target, "must be HOST:PORT, e.g. 127.0.0.1:9460");
        }
        return new CoordinatorClient("http://" + target, s.askTimeout().plusSeconds(5));
    }

    JsonNode get(String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout).GET().build());
    }

    JsonNode post(String path) {
        return send(HttpRequest.newBuilder(URI.create(base + path)).timeout(timeout)
                .POST(HttpRequest.BodyPublishers.noBody()).build());
    }

    private JsonNode send(HttpRequest request) {
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            JsonNode body = JSON.readTree(response.body());
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

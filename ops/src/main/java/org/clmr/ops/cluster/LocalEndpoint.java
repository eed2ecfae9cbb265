package org.clmr.ops.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.clmr.protocol.UserError;
import org.clmr.protocol.security.ControlToken;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * The HTTP endpoint of a local cluster's coordinator as its launcher uses it: GET /status and POST /control/...
 * with the cluster's control token, each request with a deadline, so that a coordinator that stops answering is
 * noticed instead of waited for. It follows the coordinator's restarts (the same port every time). Used from the
 * launcher's main thread.
 */
final class LocalEndpoint {
    /** The coordinator's own ask timeout (15 s by default) and some: a busy coordinator still answers within it. */
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(20);

    private final LocalCoordinator coordinator;
    private final ControlToken token;
    private final Duration recoveryTimeout;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ObjectMapper json = new ObjectMapper();

    /**
     * @param recoveryTimeout how long a coordinator may answer without a phase (recovering its journal) or with
     *                        503 before {@link #status} and {@link #post} give up
     */
    LocalEndpoint(LocalCoordinator coordinator, ControlToken token, Duration recoveryTimeout) {
        this.coordinator = coordinator;
        this.token = token;
        this.recoveryTimeout = recoveryTimeout;
    }

    /** One GET /status; an {@link IOException} for a coordinator that did not answer within the deadline. */
    JsonNode poll() throws IOException, InterruptedException {
        return json.readTree(client.send(request("/status").GET().build(), HttpResponse.BodyHandlers.ofString())
                .body());
    }

    /**
     * The coordinator's status, asked again while it is still recovering its journal (no phase yet).
     *
     * @throws UserError when it does not answer
     */
    JsonNode status() throws InterruptedException {
        long deadline = System.nanoTime() + recoveryTimeout.toNanos();
        while (true) {
            JsonNode s;
            try {
                s = poll();
            } catch (IOException e) {
                throw unreachable(e);
            }
            if (s.has("phase") || System.nanoTime() - deadline > 0) {
                return s;
            }
            Thread.sleep(500);
        }
    }

    /**
     * Posts an operator command; a 503 (the coordinator is still recovering its journal) is tried again.
     *
     * @throws UserError when the coordinator does not answer or refuses the command
     */
    void post(String path) throws InterruptedException {
        long deadline = System.nanoTime() + recoveryTimeout.toNanos();
        while (true) {
            HttpResponse<String> r;
            try {
                r = client.send(request(path).POST(HttpRequest.BodyPublishers.noBody()).build(),
                        HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                throw unreachable(e);
            }
            if (r.statusCode() == 200) {
                return;
            }
            if (r.statusCode() != 503 || System.nanoTime() - deadline > 0) {
                throw new UserError("the local coordinator refused " + path + ": " + r.body());
            }
            Thread.sleep(500);
        }
    }

    /** The one line for a coordinator that did not answer: what its process does, its log, and how to go on. */
    UserError unreachable(IOException e) {
        return unreachable(e, "does not answer");
    }

    /** @param silence how long it has not answered, e.g. "has not answered for 60 s" */
    UserError unreachable(IOException e, String silence) {
        String process = "its process (PID " + coordinator.pid() + ") " + (coordinator.alive() ? "runs" : "exited");
        String why = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        return new UserError("the coordinator at http://" + coordinator.http() + " " + silence + " (" + why + "; "
                + process + "); see " + coordinator.log() + LocalCoordinator.RESUME);
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create("http://" + coordinator.http() + path)).timeout(REQUEST_TIMEOUT)
                .header("Authorization", token.authorization());
    }
}

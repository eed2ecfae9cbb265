package org.clmr.ops.net;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.clmr.ops.ClmrProcess;
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
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A clmr cluster on {@link NetworkHosts}: {@code clmr coordinator} on h0 and {@code clmr worker}s on the other hosts,
 * each bound to its host's address (Artery, HTTP, metrics, Aeron), with the deployment's security: every process gets
 * the run's throw-away keys (Artery on mutual TLS, the control token on the HTTP control plane), and this JVM sends
 * the token with its requests, over the bridge. Test thread only.
 */
final class NetCluster {
    private static final Pattern STEP = Pattern.compile(
            "step generation=(\\d+) rank=(\\d+) step=(\\d+) epoch=\\d+ loss=(\\S+) samples/s=\\S+ fingerprint=(\\S+)");
    static final Pattern WORKER_UP = Pattern.compile("worker \\S+ up: aeron");
    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final int CLUSTER_PORT = 25520;
    private static final int HTTP_PORT = 9460;
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    private final NetworkHosts hosts;
    private final Path dir;
    private final Path dataset;
    private final List<String> common;
    private final ThrowawayKeys keys;
    private final List<String> keyArgs = new ArrayList<>();

    /**
     * @param common the {@code --set} arguments of every process (the run spec and timeouts)
     */
    NetCluster(NetworkHosts hosts, Path dir, Path dataset, List<String> common) {
        this.hosts = hosts;
        this.dir = dir;
        this.dataset = dataset;
        this.common = List.copyOf(common);
        this.keys = ThrowawayKeys.inRunDir(dir.resolve("run"));
        keys.settingOverrides().forEach(o -> keyArgs.addAll(List.of("--set", o)));
    }

    /** Starts the coordinator on h0 and waits until its HTTP endpoint answers. */
    Process startCoordinator() throws Exception {
        String a = hosts.address(0);
        List<String> args = new ArrayList<>(List.of("coordinator", "--run-dir", dir.resolve("run").toString(),
                "--set", "coordinator.cluster.host=" + a, "--set", "coordinator.cluster.port=" + CLUSTER_PORT,
                "--set", "coordinator.http.host=" + a, "--set", "coordinator.http.port=" + HTTP_PORT));
        args.addAll(common);
        args.addAll(keyArgs);
        Path log = dir.resolve("coordinator.log");
        Process p = hosts.start(0, ClmrProcess.of(args).maxHeap("512m"), log);
        await(log, Pattern.compile("status: +http://"), p);
        return p;
    }

    /** Starts a worker on host {@code k}, logging to {@code name}.log; returns once it is up (Aeron bound). */
    Process startWorker(int k, String name, String... extra) throws Exception {
        Process p = launchWorker(k, name, extra);
        await(log(name), WORKER_UP, p);
        return p;
    }

    /** Starts a worker on host {@code k} with {@code --set} overrides {@code extra}, logging to {@code name}.log. */
    Process launchWorker(int k, String name, String... extra) throws IOException {
        String a = hosts.address(k);
        List<String> args = new ArrayList<>(List.of("worker", "--seed-nodes", hosts.address(0) + ":" + CLUSTER_PORT,
                "--dataset", dataset.toString(), "--set", "worker.cluster.host=" + a,
                "--set", "worker.aeron.endpoint=" + a + ":40500"));
        args.addAll(common);
        args.addAll(keyArgs);
        for (String e : extra) {
            args.addAll(List.of("--set", e));
        }
        return hosts.start(k, ClmrProcess.of(args).maxHeap("768m"), log(name));
    }

    /** The log file of process {@code name}. */
    Path log(String name) {
        return dir.resolve(name + ".log");
    }

    /** One step line of a worker's log. */
    record StepLine(long generation, int rank, long step, double loss, String fingerprint) {
    }

    /** Every step line of worker {@code name}'s log, in order. */
    List<StepLine> steps(String name) throws IOException {
        List<StepLine> out = new ArrayList<>();
        if (!Files.exists(log(name))) {
            return out;
        }
        for (String line : Files.readAllLines(log(name))) {
            Matcher m = STEP.matcher(line);
            if (m.find()) {
                out.add(new StepLine(Long.parseLong(m.group(1)), Integer.parseInt(m.group(2)),
                        Long.parseLong(m.group(3)), Double.parseDouble(m.group(4)), m.group(5)));
            }
        }
        return out;
    }

    /** Posts {@code /control/ACTION} with the token; fails the test unless it answers 200. */
    void control(String action) throws IOException, InterruptedException {
        HttpResponse<String> r = CLIENT.send(request("/control/" + action).POST(HttpRequest.BodyPublishers.noBody())
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), action + ": " + r.body());
    }

    /** The coordinator's status, or null when it does not answer (its host is cut off, say). */
    JsonNode status() throws InterruptedException {
        try {
            JsonNode s = JSON.readTree(CLIENT.send(request("/status").timeout(Duration.ofSeconds(5)).GET().build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            return s.has("phase") ? s : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** Polls the status until {@code done} holds; fails naming {@code what} and the last status after {@code within}. */
    JsonNode awaitStatus(String what, Duration within, Predicate<JsonNode> done) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            JsonNode s = status();
            if (s != null) {
                last = s;
                if (done.test(s)) {
                    return s;
                }
            }
            Thread.sleep(250);
        }
        return fail("no " + what + " within " + within.toSeconds() + " s; last status " + last + "; logs in " + dir);
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create("http://" + hosts.address(0) + ":" + HTTP_PORT + path))
                .header("Authorization", keys.token().authorization());
    }

    /** Waits for {@code pattern} in {@code log}; fails with the log when the process exits first or time runs out. */
    static Matcher await(Path log, Pattern pattern, Process p) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            String text = Files.exists(log) ? Files.readString(log) : "";
            Matcher m = pattern.matcher(text);
            if (m.find()) {
                return m;
            }
            if (!p.isAlive()) {
                fail("process exited (" + p.exitValue() + ") before printing " + pattern + ":\n" + text);
            }
            Thread.sleep(200);
        }
        return fail("no " + pattern + " within " + WAIT.toSeconds() + " s in " + log);
    }
}

package org.clmr.coordinator.http;

import akka.actor.typed.ActorRef;
import org.clmr.coordinator.history.HistoryFilter;
import org.clmr.protocol.cluster.ControlInput;
import org.clmr.protocol.cluster.CoordinatorProtocol.DrainWorker;
import org.clmr.protocol.cluster.CoordinatorProtocol.OperatorReply;
import org.clmr.protocol.cluster.CoordinatorProtocol.PauseRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumeRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.StartRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.StopRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToCoordinator;
import org.clmr.protocol.cluster.IfRunExists;
import org.clmr.protocol.run.RunSpec;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * What a request to the coordinator's HTTP endpoint asks, read from its path and query string alone: no actor, no
 * I/O, so that every value from outside is checked in one place (and fuzzed there, ControlRequestFuzzTest). A
 * request is either a message to ask the coordinator, whose every field passed {@link ControlInput}, or a refusal
 * with its status code and a one-line body that never repeats the value it refuses. Runs on an HTTP thread.
 */
final class ControlRequest {
    private ControlRequest() {
    }

    /** A control request read: the message to ask the coordinator, or the code and body of a refusal. */
    record Parsed(Function<ActorRef<OperatorReply>, ToCoordinator> message, int code, Object refusal) {
        static Parsed ask(Function<ActorRef<OperatorReply>, ToCoordinator> message) {
            return new Parsed(message, 0, null);
        }

        static Parsed refuse(int code, Object body) {
            return new Parsed(null, code, body);
        }
    }

    /**
     * {@code POST /control/ACTION?QUERY}.
     *
     * @param action   the path after {@code /control/}
     * @param rawQuery the query string as sent (percent-encoded), or null
     * @param spec     the RunSpec a start starts
     */
    static Parsed control(String action, String rawQuery, RunSpec spec) {
        Map<String, String> q;
        try {
            q = query(rawQuery);
        } catch (IllegalArgumentException e) {
            return Parsed.refuse(400, new OperatorReply(false, "the query string is not percent-encoded UTF-8"));
        }
        return switch (action) {
            case "pause" -> Parsed.ask(PauseRun::new);
            case "resume" -> Parsed.ask(ResumeRun::new);
            case "stop" -> Parsed.ask(StopRun::new);
            case "start" -> start(q, spec);
            case "drain" -> {
                String worker = q.getOrDefault("worker", "");
                yield ControlInput.workerIdProblem(worker)
                        .map(why -> Parsed.refuse(400, new OperatorReply(false, "drain needs worker=ID: " + why)))
                        .orElseGet(() -> Parsed.ask(r -> new DrainWorker(worker, r)));
            }
            default -> Parsed.refuse(404, Map.of("error", "unknown command; use POST /control/ with start, pause,"
                    + " resume, stop or drain"));
        };
    }

    private static Parsed start(Map<String, String> q, RunSpec spec) {
        String runId = q.getOrDefault("run-id", "");
        String hash = q.getOrDefault("dataset-hash", "");
        long tracks;
        try {
            tracks = ControlInput.tracks(q.get("tracks"));
        } catch (IllegalArgumentException e) {
            return Parsed.refuse(400, new OperatorReply(false, "start needs run-id, dataset-hash and tracks: "
                    + e.getMessage()));
        }
        IfRunExists existing = IfRunExists.fromParameter(q.getOrDefault("if-exists", "refuse"));
        if (existing == null) {
            return Parsed.refuse(400, new OperatorReply(false, "if-exists must be " + IfRunExists.PARAMETERS));
        }
        Optional<String> bad = ControlInput.runIdProblem(runId).or(() -> ControlInput.datasetHashProblem(hash));
        return bad.map(why -> Parsed.refuse(400, new OperatorReply(false, why)))
                .orElseGet(() -> Parsed.ask(r -> new StartRun(runId, spec, hash, tracks, r, existing)));
    }

    /**
     * {@code GET /history?QUERY}.
     *
     * @throws IllegalArgumentException with one line naming the parameter (not repeating its value) when the query
     *                                  cannot be read or a parameter is not what it takes
     */
    static HistoryFilter history(String rawQuery) {
        Map<String, String> q;
        try {
            q = query(rawQuery);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the query string is not percent-encoded UTF-8");
        }
        return HistoryFilter.fromQuery(q);
    }

    /** Parameters of a query string, percent-decoded; the last of a repeated name wins. */
    static Map<String, String> query(String raw) {
        Map<String, String> q = new HashMap<>();
        if (raw == null) {
            return q;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                q.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                        URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return q;
    }
}

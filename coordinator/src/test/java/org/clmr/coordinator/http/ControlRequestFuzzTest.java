package org.clmr.coordinator.http;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.clmr.protocol.cluster.ControlInput;
import org.clmr.protocol.cluster.CoordinatorProtocol.DrainWorker;
import org.clmr.protocol.cluster.CoordinatorProtocol.OperatorReply;
import org.clmr.protocol.cluster.CoordinatorProtocol.StartRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToCoordinator;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.fuzz.ReaderContract;
import org.clmr.protocol.run.RunSpec;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes what an HTTP request to the coordinator carries ({@link ControlRequest}): any path after
 * {@code /control/} and any query string is answered with a message whose every field passed {@link ControlInput}
 * or with a refusal (400 or 404) of one line; never an exception, so nothing but the refusal reaches the client or
 * the log. {@code GET /history}'s query either reads or is refused with one line. An input starting with
 * {@code history:} is a history query; any other is {@code ACTION?QUERY}. Fuzzed in verify through
 * {@link CoordinatorFuzzTest}.
 */
class ControlRequestFuzzTest {
    private static final RunSpec SPEC = RunSpec.from(ClmrConfig.load(null, List.of("run.model.preset=tiny")));
    private static final Set<String> ACTIONS = Set.of("start", "pause", "resume", "stop", "drain");

    /** Valid requests of every action, and a few hostile ones. */
    static Stream<byte[]> requests() {
        return Stream.of("start?run-id=r1&dataset-hash=0a1b2c&tracks=40",
                        "start?run-id=r.1_x-2&dataset-hash=ff&tracks=2147483647&if-exists=fresh-drop",
                        "start?run-id=%0Aforged&dataset-hash=ff&tracks=9223372036854775807",
                        "drain?worker=host%2Fcpu%2F42", "pause", "resume", "stop", "nothing?x=%zz",
                        "history:since=2026-12-02T05:00:00Z&kind=joined,started&run-id=r1",
                        "history:since=%0A&kind=j%C3%B6ined")
                .map(s -> s.getBytes(StandardCharsets.UTF_8));
    }

    @MethodSource("requests")
    @FuzzTest(maxDuration = "20s")
    void anyControlOrHistoryRequest(byte[] input) {
        check(input);
    }

    /** The target. */
    static void check(byte[] input) {
        String request = new String(input, StandardCharsets.UTF_8);
        if (request.startsWith("history:")) {
            ReaderContract.check("history query", input.length, ReaderContract.Allocation.BINARY,
                    List.of(IllegalArgumentException.class), () -> ControlRequest.history(request.substring(8)));
            return;
        }
        int q = request.indexOf('?');
        String action = q < 0 ? request : request.substring(0, q);
        String query = q < 0 ? null : request.substring(q + 1);
        ControlRequest.Parsed p = ReaderContract.check("control request", input.length,
                ReaderContract.Allocation.BINARY, List.of(), () -> ControlRequest.control(action, query, SPEC)).orElseThrow();
        if (p.message() == null) {
            refused(p);
        } else {
            asked(action, p.message().apply(null));
        }
    }

    private static void refused(ControlRequest.Parsed p) {
        assertTrue(p.code() == 400 || p.code() == 404, "refused with " + p.code());
        String line = p.refusal() instanceof OperatorReply r ? r.message() : ((Map<?, ?>) p.refusal()).values().toString();
        if (p.refusal() instanceof OperatorReply r) {
            assertFalse(r.accepted());
        }
        assertFalse(line.isBlank());
        assertTrue(line.chars().allMatch(c -> c >= 0x20 && c != 0x7f), "a refusal is one printable line: " + line);
    }

    private static void asked(String action, ToCoordinator message) {
        assertTrue(ACTIONS.contains(action), "asked for " + action);
        if (message instanceof StartRun s) {
            assertEquals("start", action);
            assertTrue(ControlInput.runIdProblem(s.runId()).isEmpty(), s.runId());
            assertTrue(ControlInput.datasetHashProblem(s.datasetHash()).isEmpty(), s.datasetHash());
            assertTrue(s.tracks() >= 1 && s.tracks() <= ControlInput.MAX_TRACKS);
        } else if (message instanceof DrainWorker d) {
            assertEquals("drain", action);
            assertTrue(ControlInput.workerIdProblem(d.workerId()).isEmpty(), d.workerId());
        }
    }
}

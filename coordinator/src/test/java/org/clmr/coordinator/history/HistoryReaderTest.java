package org.clmr.coordinator.history;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import org.clmr.coordinator.CoordinatorNode;
import org.clmr.coordinator.CoordinatorSettings;
import org.clmr.coordinator.JournalFixture;
import org.clmr.coordinator.history.HistoryEntry.Kind;
import org.clmr.protocol.UserError;
import org.clmr.protocol.config.ClmrConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The history of the journal of {@link JournalFixture} (written by an earlier build: it holds an event under its
 * earlier name), read offline from the run directory's database and from a coordinator node's {@code GET /history}.
 */
@Timeout(120)
class HistoryReaderTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final List<Kind> KINDS = List.of(Kind.STARTED, Kind.JOINED, Kind.GENERATION, Kind.CHECKPOINT,
            Kind.EPOCH, Kind.PAUSED, Kind.RESUMED, Kind.GENERATION, Kind.JOINED, Kind.REMOVED, Kind.COMPLETED);

    @TempDir
    Path tmp;

    private static Config config() {
        return ClmrConfig.load(null, List.of("run.model.preset=tiny", "run.global-batch=8", "run.epochs=4",
                "coordinator.formation-delay=0s", "coordinator.cluster.port=0", "coordinator.http.port=0"));
    }

    private Path fixtureRunDir() throws Exception {
        Path runDir = tmp.resolve("run");
        JournalFixture.load(CoordinatorSettings.from(config()).database(), runDir, row -> true);
        return runDir;
    }

    @Test
    void shouldListEveryEventOfTheJournalInOrderWithItsTimeAndFacts() throws Exception {
        List<HistoryEntry> h = HistoryReader.offline(config(), fixtureRunDir(), TIMEOUT);
        assertEquals(KINDS, h.stream().map(HistoryEntry::kind).toList());
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L), h.stream().map(HistoryEntry::sequence).toList());
        assertTrue(h.stream().allMatch(e -> e.runId().equals("run-p") && e.at() != null));
        for (int i = 1; i < h.size(); i++) {
            assertFalse(h.get(i).at().isBefore(h.get(i - 1).at()), "in time order: " + h);
        }
        HistoryEntry started = h.get(0);
        assertTrue(started.text().startsWith("run run-p started: 4 epochs of 5 steps (20 steps), global batch 8"),
                started.text());
        assertEquals(40L, started.details().get("tracks"));
        assertEquals(64, ((String) started.details().get("datasetHash")).length());
        assertEquals("tiny", ((Map<?, ?>) ((Map<?, ?>) started.details().get("spec")).get("model")).get("preset"));

        HistoryEntry first = h.get(2);
        assertTrue(first.text().startsWith("generation 1 (first members): 1 member w1 (cpu) share 8; resumes from"
                + " fresh start"), first.text());
        HistoryEntry checkpoint = h.get(3);  // stored as CheckpointCommitted, the event's earlier name
        assertTrue(checkpoint.text().startsWith("checkpoint 1: step 4 (epoch 0), "), checkpoint.text());
        assertTrue(checkpoint.text().contains("verified, sha256 aa0d80fee5f0"), checkpoint.text());
        assertEquals(true, checkpoint.details().get("verified"));
        assertEquals("epoch 0 completed at step 5", h.get(4).text());
        assertEquals("paused: paused by an operator", h.get(5).text());
        assertTrue(h.get(7).text().startsWith("generation 2 (resumed by an operator)"), h.get(7).text());
        assertEquals("w2 (cpu on host-w2) removed: left; it was waiting to join", h.get(9).text());
        assertEquals("LEFT", h.get(9).details().get("reason"));
        assertEquals("run run-p stopped by an operator", h.get(10).text());
    }

    @Test
    void shouldFilterByKindTimeAndRun() throws Exception {
        List<HistoryEntry> h = HistoryReader.offline(config(), fixtureRunDir(), TIMEOUT);
        assertEquals(3, new HistoryFilter(null, EnumSet.of(Kind.GENERATION, Kind.REMOVED), null).apply(h).size());
        HistoryFilter since = HistoryFilter.fromQuery(Map.of("since", h.get(5).at().toString()));
        assertEquals(KINDS.subList(5, KINDS.size()), since.apply(h).stream().map(HistoryEntry::kind).toList());
        assertEquals(0, HistoryFilter.fromQuery(Map.of("run-id", "other")).apply(h).size());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> HistoryFilter.fromQuery(Map.of("kind", "generation,joins")));
        assertTrue(bad.getMessage().contains("unknown kind 'joins'; the kinds are started, joined, removed"),
                bad.getMessage());
    }

    @Test
    void shouldServeTheSameHistoryOverHttpAndOfflineWhileTheCoordinatorRuns() throws Exception {
        Path runDir = fixtureRunDir();
        HttpClient client = HttpClient.newHttpClient();
        try (CoordinatorNode node = CoordinatorNode.start(config(), runDir)) {
            JsonNode all = get(client, node, "/history", 200);
            List<String> kinds = new ArrayList<>();
            all.forEach(e -> kinds.add(e.get("kind").asText()));
            assertEquals(KINDS.stream().map(Kind::label).toList(), kinds);
            JsonNode removed = get(client, node, "/history?kind=removed", 200);
            assertEquals(1, removed.size());
            assertEquals("w2 (cpu on host-w2) removed: left; it was waiting to join", removed.get(0).get("text").asText());
            assertEquals(10, removed.get(0).get("sequence").asLong());
            assertTrue(removed.get(0).get("at").asText().startsWith("2026-12-02T05:00:"), removed.toString());
            assertTrue(get(client, node, "/history?kind=joins", 400).get("error").asText().contains("unknown kind"));
            assertEquals(KINDS.size(), HistoryReader.offline(config(), runDir, TIMEOUT).size(), "offline while it runs");
        }
    }

    @Test
    void shouldSayWhereToLookWhenARunDirectoryHasNoCoordinatorDatabase() {
        UserError e = assertThrows(UserError.class, () -> HistoryReader.offline(config(), tmp, TIMEOUT));
        assertTrue(e.getMessage().startsWith("no coordinator database in " + tmp), e.getMessage());
    }

    private static JsonNode get(HttpClient client, CoordinatorNode node, String path, int status) throws Exception {
        for (int attempt = 0; ; attempt++) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + node.httpPort() + path)).GET().build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == status || attempt == 20) {
                assertEquals(status, r.statusCode(), r.body());
                return new ObjectMapper().readTree(r.body());
            }
            Thread.sleep(500);
        }
    }
}

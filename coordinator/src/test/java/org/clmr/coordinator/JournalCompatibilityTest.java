package org.clmr.coordinator;

import org.clmr.protocol.cluster.CoordinatorProtocol.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A journal written by an earlier build must stay readable: the rows of {@link JournalFixture} (events and
 * snapshots as the coordinator wrote them to H2 before its events and state moved and one event was renamed)
 * are put in a fresh database, and a coordinator node recovers the run from them.
 */
class JournalCompatibilityTest {
    @TempDir
    Path tmp;

    @Test
    @Timeout(120)
    void shouldRecoverARunFromEveryEventOfAJournalWrittenBeforeTheDesks() throws Exception {
        assertRecovered(row -> row.startsWith("event "));
    }

    @Test
    @Timeout(120)
    void shouldRecoverARunFromASnapshotWrittenBeforeTheDesksAndTheEventsAfterIt() throws Exception {
        // only the events after the newest snapshot (9): without the snapshot they could not apply
        assertRecovered(row -> row.startsWith("snapshot ") || (row.startsWith("event ") && seq(row) > 9));
    }

    private void assertRecovered(Predicate<String> rows) throws Exception {
        Path runDir = tmp.resolve("run");
        NodeHarness.Db db = new NodeHarness.Db("h2", "");
        JournalFixture.load(CoordinatorSettings.from(NodeHarness.config(db)).database(), runDir, rows);
        try (CoordinatorNode node = NodeHarness.start(db, runDir)) {
            Status s = NodeHarness.status(node);
            assertEquals("COMPLETED", s.phase());
            assertEquals("stopped by an operator", s.phaseReason());
            assertEquals("run-p", s.runId());
            assertEquals(2, s.generation());
            assertEquals(5, s.committedStep());
            assertEquals(20, s.totalSteps());
            assertEquals(List.of("w1"), s.members().stream().map(m -> m.workerId()).toList());
            assertEquals(List.of(), s.pendingWorkers());
            assertEquals(4, s.lastCheckpoint().step());
            assertEquals("aa0d80fee5f05f54a87157f1c3606ed10f9ddddeacda66b41fa7991878c90679", s.lastCheckpoint().sha256());
        }
    }

    private static long seq(String row) {
        return Long.parseLong(row.split(" ")[2]);
    }
}

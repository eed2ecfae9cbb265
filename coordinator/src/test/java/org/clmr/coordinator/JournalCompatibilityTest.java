package org.clmr.coordinator;

import org.clmr.protocol.cluster.CoordinatorProtocol.Status;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.util.Base64;
import java.util.List;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A journal written by an earlier build must stay readable: the rows of {@code journal/before-desks.txt} (events
 * and snapshots as the coordinator wrote them to H2 before its events and state moved and one event was renamed)
 * are put in a fresh database, and a coordinator node recovers the run from them.
 */
class JournalCompatibilityTest {
    private static final String FIXTURE = "/journal/before-desks.txt";

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
        CoordinatorSettings.DatabaseSettings settings = CoordinatorSettings.from(NodeHarness.config(db)).database();
        String url = settings.jdbcUrl(runDir);
        JournalSchema.ensure(settings, url);
        try (Connection c = DriverManager.getConnection(url, settings.user(), settings.password())) {
            for (String row : fixture()) {
                if (rows.test(row)) {
                    insert(c, row.split(" "));
                }
            }
        }
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

    private static List<String> fixture() throws IOException {
        try (InputStream in = JournalCompatibilityTest.class.getResourceAsStream(FIXTURE)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        }
    }

    private static void insert(Connection c, String[] f) throws Exception {
        if (f[0].equals("event")) {
            try (PreparedStatement s = c.prepareStatement("INSERT INTO \"event_journal\" (\"persistence_id\", "
                    + "\"sequence_number\", \"writer\", \"write_timestamp\", \"adapter_manifest\", \"event_ser_id\", "
                    + "\"event_ser_manifest\", \"event_payload\") VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
                s.setString(1, f[1]);
                s.setLong(2, Long.parseLong(f[2]));
                s.setString(3, f[3]);
                s.setLong(4, Long.parseLong(f[4]));
                s.setString(5, f[5].substring(1, f[5].length() - 1));
                s.setInt(6, Integer.parseInt(f[6]));
                s.setString(7, f[7]);
                s.setBytes(8, Base64.getDecoder().decode(f[8]));
                s.executeUpdate();
            }
        } else {
            try (PreparedStatement s = c.prepareStatement("INSERT INTO \"snapshot\" (\"persistence_id\", "
                    + "\"sequence_number\", \"created\", \"snapshot_ser_id\", \"snapshot_ser_manifest\", "
                    + "\"snapshot_payload\") VALUES (?, ?, ?, ?, ?, ?)")) {
                s.setString(1, f[1]);
                s.setLong(2, Long.parseLong(f[2]));
                s.setLong(3, Long.parseLong(f[3]));
                s.setInt(4, Integer.parseInt(f[4]));
                s.setString(5, f[5]);
                s.setBytes(6, Base64.getDecoder().decode(f[6]));
                s.executeUpdate();
            }
        }
    }
}

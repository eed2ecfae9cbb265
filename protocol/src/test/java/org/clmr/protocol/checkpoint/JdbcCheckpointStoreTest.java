package org.clmr.protocol.checkpoint;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.util.List;
import java.util.Random;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The JDBC store on a real H2 database (the coordinator's suite runs it on PostgreSQL too). */
class JdbcCheckpointStoreTest {
    private String url;
    private JdbcCheckpointStore store;

    @BeforeEach
    void open() {
        url = "jdbc:h2:mem:ck-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
        store = JdbcCheckpointStore.open(url, "sa", "", 2);
    }

    @AfterEach
    void close() {
        store.close();
    }

    private static byte[] payload(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void shouldWriteVerifyAndReadBackAPayload() {
        byte[] p = payload(3 << 20, 1);
        CheckpointRecord r = store.write("run-1", 500, 2, 3, "h".repeat(64), p);
        assertEquals(p.length, r.sizeBytes());
        assertEquals(JdbcCheckpointStore.sha256(p), r.sha256());
        assertEquals("jdbc:clmr_checkpoint#run-1/500", r.location());
        assertArrayEquals(p, store.read(r));
        assertEquals(List.of(r), store.list("run-1"));
        assertEquals(r, store.find("run-1", 500).orElseThrow());
        assertTrue(store.list("run-2").isEmpty());
    }

    @Test
    void shouldRefuseToReadAPayloadThatWasChangedInTheTable() throws Exception {
        CheckpointRecord r = store.write("run-1", 10, 0, 1, "h", "good".getBytes(StandardCharsets.UTF_8));
        try (Connection c = DriverManager.getConnection(url, "sa", "");
             PreparedStatement u = c.prepareStatement("UPDATE clmr_checkpoint SET payload = ? WHERE step = 10")) {
            u.setBytes(1, "evil".getBytes(StandardCharsets.UTF_8));
            u.executeUpdate();
        }
        CheckpointCorruptException e = assertThrows(CheckpointCorruptException.class, () -> store.read(r));
        assertTrue(e.getMessage().contains("sha256"), e.getMessage());
    }

    @Test
    void shouldListOldestFirstDeleteAndPruneByRetention() {
        for (int step = 100; step <= 1000; step += 100) {
            store.write("run-1", step, step / 200, 1, "h", payload(64, step));
        }
        store.write("run-other", 100, 0, 1, "h", payload(8, 0));
        List<CheckpointRecord> all = store.list("run-1");
        assertEquals(10, all.size());
        assertEquals(100, all.get(0).step());
        assertEquals(1000, store.latest("run-1").orElseThrow().step());
        List<CheckpointRecord> pruned = store.prune("run-1", new RetentionPolicy(3, 2));
        List<Long> kept = store.list("run-1").stream().map(CheckpointRecord::step).toList();
        assertEquals(List.of(100L, 400L, 800L, 900L, 1000L), kept);
        assertEquals(5, pruned.size());
        store.delete(store.find("run-1", 1000).orElseThrow());
        assertEquals(900, store.latest("run-1").orElseThrow().step());
        assertEquals(1, store.list("run-other").size());
    }

    @Test
    void shouldReplaceACheckpointWrittenAgainAtTheSameStep() {
        store.write("run-1", 7, 0, 1, "h", payload(16, 1));
        CheckpointRecord second = store.write("run-1", 7, 0, 2, "h", payload(32, 2));
        assertEquals(List.of(second), store.list("run-1"));
        assertEquals(32, store.read(second).length);
    }
}

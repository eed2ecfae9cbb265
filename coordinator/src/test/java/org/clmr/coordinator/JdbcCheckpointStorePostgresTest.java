package org.clmr.coordinator;

import org.clmr.protocol.checkpoint.CheckpointCorruptException;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.checkpoint.JdbcCheckpointStore;
import org.clmr.protocol.checkpoint.RetentionPolicy;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The JDBC checkpoint store on PostgreSQL (BYTEA payloads); protocol's own test covers H2. */
class JdbcCheckpointStorePostgresTest {
    @Test
    @Timeout(120)
    void shouldWriteVerifyDetectCorruptionAndPruneOnPostgres() throws Exception {
        var pg = LocalPostgres.shared();
        Assumptions.assumeTrue(pg.isPresent(), LocalPostgres::whyUnavailable);
        String url = pg.get().newDatabase("checkpoints");
        byte[] payload = new byte[2 << 20];
        new Random(3).nextBytes(payload);
        try (JdbcCheckpointStore store = JdbcCheckpointStore.open(url, "clmr", "", 2)) {
            CheckpointRecord r = store.write("run-pg", 100, 0, 1, "h", payload);
            assertArrayEquals(payload, store.read(r));
            for (int step = 200; step <= 500; step += 100) {
                store.write("run-pg", step, step / 200, 1, "h", new byte[] {(byte) step});
            }
            store.prune("run-pg", new RetentionPolicy(2, 0));
            assertEquals(List.of(400L, 500L), store.list("run-pg").stream().map(CheckpointRecord::step).toList());
            CheckpointRecord last = store.latest("run-pg").orElseThrow();
            try (Connection c = DriverManager.getConnection(url, "clmr", "");
                 PreparedStatement u = c.prepareStatement("UPDATE clmr_checkpoint SET payload = ? WHERE step = 500")) {
                u.setBytes(1, new byte[] {1, 2});
                u.executeUpdate();
            }
            assertThrows(CheckpointCorruptException.class, () -> store.read(last));
        }
    }
}

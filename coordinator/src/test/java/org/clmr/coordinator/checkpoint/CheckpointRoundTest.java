package org.clmr.coordinator.checkpoint;

import org.clmr.coordinator.checkpoint.CheckpointRound.Stage;
import org.clmr.coordinator.desk.Classification;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class CheckpointRoundTest {
    private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");

    private static CheckpointRecord record(long step) {
        return new CheckpointRecord("run-1", step, 0, 1, 10, "0".repeat(64), NOW, "spec", "jdbc:clmr_checkpoint#run-1/"
                + step);
    }

    @Test
    void shouldGoFromPendingThroughWrittenAndVerifiedToCommitted() {
        CheckpointRound round = new CheckpointRound(7, 4, 1);
        assertEquals(Stage.PENDING, round.stage());
        assertEquals(Classification.UNKNOWN, round.written(6, record(4)), "another round's");
        assertEquals(Classification.ACCEPTED, round.written(7, record(4)));
        assertEquals(Stage.WRITTEN, round.stage());
        assertEquals(record(4), round.record());
        assertEquals(Classification.DUPLICATE, round.written(7, record(4)));
        assertEquals(Classification.ACCEPTED, round.verified(7, null));
        assertEquals(Stage.VERIFIED, round.stage());
        assertEquals(Classification.DUPLICATE, round.verified(7, null));
        assertEquals(Classification.ACCEPTED, round.committed(7));
        assertEquals(Stage.COMMITTED, round.stage());
        assertEquals(Classification.DUPLICATE, round.notWritten(7, "late"));
        assertNull(round.failure());
    }

    @Test
    void shouldFailWhenItIsNotWrittenOrNotWholeWhenReadBack() {
        CheckpointRound unwritten = new CheckpointRound(1, 4, 1);
        assertEquals(Classification.ACCEPTED, unwritten.notWritten(1, "disk full"));
        assertEquals(Stage.FAILED, unwritten.stage());
        assertEquals("disk full", unwritten.failure());
        assertEquals(Classification.DUPLICATE, unwritten.written(1, record(4)), "too late");
        CheckpointRound corrupt = new CheckpointRound(2, 8, 1);
        assertEquals(Classification.DUPLICATE, corrupt.written(2, record(4)), "not the step it was asked for");
        assertEquals(Classification.ACCEPTED, corrupt.written(2, record(8)));
        assertEquals(Classification.ACCEPTED, corrupt.verified(2, "sha256 differs"));
        assertEquals(Stage.FAILED, corrupt.stage());
        assertEquals(Classification.DUPLICATE, corrupt.committed(2), "a failed round is never committed");
    }
}

package org.clmr.protocol.checkpoint;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RetentionPolicyTest {

    private static CheckpointRecord rec(long step, int epoch) {
        return new CheckpointRecord("r", step, epoch, 1, 10, "00", Instant.EPOCH, "h", "loc" + step);
    }

    @Test
    void shouldKeepTheNewestAndTheFirstOfEveryMthEpoch() {
        List<CheckpointRecord> all = new ArrayList<>();
        // two checkpoints per epoch, epochs 0..9
        for (int e = 0; e < 10; e++) {
            all.add(rec(e * 10L + 5, e));
            all.add(rec(e * 10L + 10, e));
        }
        List<CheckpointRecord> doomed = new RetentionPolicy(3, 4).toDelete(all);
        List<Long> kept = all.stream().filter(r -> !doomed.contains(r)).map(CheckpointRecord::step).toList();
        // first of epochs 0, 4, 8, and the newest three
        assertEquals(List.of(5L, 45L, 85L, 90L, 95L, 100L), kept);
    }

    @Test
    void shouldKeepOnlyTheNewestWithoutEpochRetention() {
        List<CheckpointRecord> all = List.of(rec(30, 3), rec(10, 1), rec(20, 2));
        List<CheckpointRecord> doomed = new RetentionPolicy(1, 0).toDelete(all);
        assertEquals(List.of(10L, 20L), doomed.stream().map(CheckpointRecord::step).toList());
    }

    @Test
    void shouldRefuseToKeepNothing() {
        assertThrows(IllegalArgumentException.class, () -> new RetentionPolicy(0, 0));
    }
}

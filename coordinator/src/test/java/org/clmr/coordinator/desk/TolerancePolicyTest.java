package org.clmr.coordinator.desk;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TolerancePolicyTest {
    @Test
    void shouldPauseOnlyAfterTheConfiguredCheckpointFailuresInARow() {
        TolerancePolicy p = new TolerancePolicy(3);
        assertEquals(TolerancePolicy.CheckpointDecision.RETRY_LATER, p.onCheckpointFailure(1));
        assertEquals(TolerancePolicy.CheckpointDecision.RETRY_LATER, p.onCheckpointFailure(2));
        assertEquals(TolerancePolicy.CheckpointDecision.PAUSE_RUN, p.onCheckpointFailure(3));
        assertThrows(IllegalArgumentException.class, () -> new TolerancePolicy(0));
    }

    @Test
    void shouldEvictTheReporterWhenItCallsAMajoritySilent() {
        TolerancePolicy p = new TolerancePolicy(3);
        assertTrue(p.evictSilent(2, 1));
        assertTrue(p.evictSilent(3, 1));
        assertFalse(p.evictSilent(3, 2));
        assertTrue(p.evictSilent(5, 2));
        assertFalse(p.evictSilent(4, 2));
    }
}

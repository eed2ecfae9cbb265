package org.clmr.protocol.cluster;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The checks of values that reach the coordinator from outside, at their edges. */
class ControlInputTest {
    @Test
    void shouldTakeRunIdsOfUpTo64SafeCharactersOnly() {
        assertTrue(ControlInput.runIdProblem("r1").isEmpty());
        assertTrue(ControlInput.runIdProblem("train-1700000000000").isEmpty());
        assertTrue(ControlInput.runIdProblem("a".repeat(64)).isEmpty());
        for (String bad : new String[] {"", "a".repeat(65), "r1\nINFO fake line", "r 1", "../r1", "r1;drop", "ré"}) {
            String why = ControlInput.runIdProblem(bad).orElseThrow(() -> new AssertionError("accepted " + bad));
            assertFalse(why.contains("\n") || (bad.length() > 2 && why.contains(bad)), "the answer repeats the value: " + why);
        }
        assertTrue(ControlInput.runIdProblem(null).isPresent());
    }

    @Test
    void shouldTakeTrackCountsFromOneToIntMaxOnly() {
        assertEquals(1, ControlInput.tracks("1"));
        assertEquals(Integer.MAX_VALUE, ControlInput.tracks("2147483647"));
        for (String bad : new String[] {"0", "-5", "2147483648", "9223372036854775807", "99999999999999999999", "1e3",
                "", " 4", "0x10"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ControlInput.tracks(bad), bad);
            assertTrue(e.getMessage().startsWith("tracks must be an integer from 1 to 2147483647"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> ControlInput.tracks(null));
    }

    @Test
    void shouldTakePrintableWorkerIdsAndAlphanumericDatasetHashesOnly() {
        assertTrue(ControlInput.workerIdProblem("10.0.0.12/cuda:1/4711").isEmpty());
        assertTrue(ControlInput.workerIdProblem("w 1").isPresent());
        assertTrue(ControlInput.workerIdProblem("w\r\n1").isPresent());
        assertTrue(ControlInput.workerIdProblem("w".repeat(256)).isPresent());
        assertTrue(ControlInput.datasetHashProblem("ab".repeat(32)).isEmpty());
        assertTrue(ControlInput.datasetHashProblem("abc\n").isPresent());
        assertTrue(ControlInput.datasetHashProblem("").isPresent());
    }
}

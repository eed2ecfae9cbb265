package org.clmr.eval.features;

import org.clmr.protocol.UserError;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FeatureStatsTest {
    /** Two clips of two windows, three dimensions: a varying one, a dead (constant 0) one, one far from zero. */
    private static FeatureSet set(float... values) {
        return new FeatureSet(List.of("a", "b"), List.of("t"), 3, values, new int[] {0, 2, 4}, new boolean[][] {{true}, {false}});
    }

    @Test
    void shouldFindConstantDimensionsAndPopulationStandardDeviations() {
        FeatureStats s = FeatureStats.of(set(
                1f, 0f, 100000.00f,
                2f, 0f, 100000.02f,
                3f, 0f, 100000.00f,
                4f, 0f, 100000.02f), "train");
        assertEquals(List.of(1), s.constantDims());
        assertEquals(1.0 / 3, s.constantShare(), 1e-15);
        assertEquals(2.5, s.mean(0), 0.0);
        assertEquals(Math.sqrt(1.25), s.std(0), 1e-15, "divisor n, as StandardScaler");
        assertEquals(0.0, s.std(1), 0.0);
        float hi = 100000.02f;
        double halfStep = (hi - 100000.0f) / 2.0;
        assertEquals(halfStep, s.std(2), 1e-12, "no cancellation for a column far from zero");
        assertEquals(halfStep, s.stdRange()[0], 1e-12);
        assertEquals(Math.sqrt(1.25), s.stdRange()[1], 1e-15);
    }

    @Test
    void shouldRefuseNonFiniteFeaturesNamingTheSplitDimensionAndWindow() {
        UserError e = assertThrows(UserError.class, () -> FeatureStats.of(set(
                1f, 0f, 1f,
                2f, Float.NaN, 1f,
                3f, 0f, 1f,
                4f, 0f, 1f), "validation"));
        assertTrue(e.getMessage().startsWith("the validation features hold NaN in dimension 1 of window 1"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }
}

package org.clmr.coordinator.plan;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Properties of the share split over many seeded random cases (jqwik is not available here). */
class ShareCalculatorTest {
    private static final int CASES = 20_000;

    @Test
    void shouldSumToTheBatchGiveEachAtLeastTwoAndSplitTheRestProportionally() {
        Random random = new Random(20261124L);
        for (int c = 0; c < CASES; c++) {
            int n = 1 + random.nextInt(16);
            int batch = 2 * n + random.nextInt(400);
            double[] tp = new double[n];
            for (int i = 0; i < n; i++) {
                tp[i] = random.nextInt(10) == 0 ? 0.5 + random.nextDouble() : 1 + random.nextDouble() * 1000;
            }
            int[] shares = ShareCalculator.split(batch, tp);
            String where = "case " + c + ": B=" + batch + " tp=" + Arrays.toString(tp) + " -> " + Arrays.toString(shares);
            assertEquals(batch, Arrays.stream(shares).sum(), where);
            // workers above the minimum split what is left in proportion to throughput, within rounding
            double aboveShares = 0;
            double aboveThroughput = 0;
            for (int i = 0; i < n; i++) {
                if (shares[i] > ShareCalculator.MIN_SHARE) {
                    aboveShares += shares[i];
                    aboveThroughput += tp[i];
                }
            }
            for (int i = 0; i < n; i++) {
                assertTrue(shares[i] >= ShareCalculator.MIN_SHARE, where);
                if (shares[i] > ShareCalculator.MIN_SHARE) {
                    assertTrue(Math.abs(shares[i] - aboveShares * tp[i] / aboveThroughput) < 2.0, where);
                }
                for (int j = 0; j < n; j++) {
                    if (tp[i] > tp[j]) {
                        assertTrue(shares[i] >= shares[j], "faster worker got less: " + where);
                    }
                }
            }
        }
    }

    @Test
    void shouldSplitExactlyProportionallyWhenThatIsIntegral() {
        assertArrayEquals(new int[] {48, 24, 24}, ShareCalculator.split(96, new double[] {200, 100, 100}));
        assertArrayEquals(new int[] {96}, ShareCalculator.split(96, new double[] {3}));
        assertArrayEquals(new int[] {2, 2}, ShareCalculator.split(4, new double[] {1000, 1}));
        assertArrayEquals(new int[] {94, 2}, ShareCalculator.split(96, new double[] {1000, 1}));
    }

    @Test
    void shouldBeAPureFunctionOfItsInputs() {
        Random random = new Random(7);
        for (int c = 0; c < 1000; c++) {
            double[] tp = random.doubles(1 + random.nextInt(8), 1, 100).toArray();
            assertArrayEquals(ShareCalculator.split(96, tp), ShareCalculator.split(96, tp.clone()));
        }
    }

    @Test
    void shouldTreatMissingThroughputAsTheMeanOfTheOthers() {
        assertArrayEquals(new int[] {32, 32, 32}, ShareCalculator.split(96, new double[] {100, Double.NaN, 0}));
        assertArrayEquals(new int[] {48, 48}, ShareCalculator.split(96, new double[] {0, -1}));
    }

    @Test
    void shouldRefuseMoreWorkersThanTheBatchCanFeed() {
        assertThrows(IllegalArgumentException.class, () -> ShareCalculator.split(5, new double[] {1, 1, 1}));
        assertEquals(48, ShareCalculator.maxWorkers(96));
    }

    @Test
    void shouldRebalanceOnlyWhenTheGainExceedsTheThreshold() {
        double[] tp = {300, 100};
        assertTrue(ShareCalculator.worthRebalancing(96, new int[] {48, 48}, tp, 0.1));
        assertFalse(ShareCalculator.worthRebalancing(96, new int[] {72, 24}, tp, 0.0));
        assertFalse(ShareCalculator.worthRebalancing(96, new int[] {70, 26}, tp, 0.1));
        Random random = new Random(11);
        for (int c = 0; c < 2000; c++) {
            int n = 1 + random.nextInt(6);
            double[] t = random.doubles(n, 1, 100).toArray();
            int[] best = ShareCalculator.split(96, t);
            assertFalse(ShareCalculator.worthRebalancing(96, best, t, 0.0), Arrays.toString(t));
        }
    }
}

package org.clmr.coordinator.plan;

import org.clmr.protocol.fuzz.Property;
import org.clmr.protocol.fuzz.Shrinking.Dim;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The share split for any throughputs a worker can report (zero, negative, NaN, infinite, subnormal, the largest
 * doubles) and any batch: the shares sum to the batch, each is at least the minimum, faster never gets less than
 * slower, and a report that is not a positive finite number counts as the mean of the valid ones.
 */
class ShareCalculatorPropertyTest {
    /** Throughputs that break naive arithmetic: drawn one time in four. */
    private static final double[] ODD = {0, -0.0, -1, -1e300, Double.NaN, Double.POSITIVE_INFINITY,
            Double.NEGATIVE_INFINITY, Double.MIN_VALUE, Double.MIN_NORMAL, Double.MAX_VALUE, 1e300, 1e-300};

    private static final List<Dim> DIMS = List.of(Dim.log("workers", 1, 128), Dim.log("batchOverMinimum", 1, 1 << 16),
            Dim.of("throughputSeed", Long.MIN_VALUE, Long.MAX_VALUE));

    @Test
    void shouldSumToTheBatchAndGiveEveryWorkerTheMinimumWhateverTheThroughputs() {
        Property.forAll("share split", DIMS, 1000, v -> {
            int n = (int) v[0];
            int batch = ShareCalculator.MIN_SHARE * n + (int) v[1] - 1;
            double[] tp = throughputs(n, v[2]);
            int[] shares = ShareCalculator.split(batch, tp);
            String where = "B=" + batch + " tp=" + Arrays.toString(tp) + " -> " + Arrays.toString(shares);
            assertEquals(n, shares.length, where);
            assertEquals(batch, Arrays.stream(shares).asLongStream().sum(), where);
            for (int s : shares) {
                assertTrue(s >= ShareCalculator.MIN_SHARE, where);
            }
            double[] valid = validated(tp);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    if (valid[i] > valid[j]) {
                        assertTrue(shares[i] >= shares[j], "worker " + i + " is faster than " + j + ": " + where);
                    }
                }
            }
            double step = ShareCalculator.stepTime(shares, tp);
            assertFalse(Double.isNaN(step), where);
            assertFalse(ShareCalculator.worthRebalancing(batch, shares, tp, 0.0), where);
        });
    }

    @Test
    void shouldCountAnInvalidReportAsTheMeanOfTheValidOnes() {
        Property.forAll("invalid reports", DIMS, 1000, v -> {
            int n = (int) v[0];
            int batch = ShareCalculator.MIN_SHARE * n + (int) v[1] - 1;
            double[] tp = throughputs(n, v[2]);
            int[] expected = ShareCalculator.split(batch, validated(tp));
            int[] actual = ShareCalculator.split(batch, tp);
            String where = "B=" + batch + " tp=" + Arrays.toString(tp) + ": " + Arrays.toString(expected) + " vs "
                    + Arrays.toString(actual);
            // the mean is rounded differently in the two, which can flip one near-tie of remainders
            int moved = 0;
            for (int i = 0; i < n; i++) {
                assertTrue(Math.abs(expected[i] - actual[i]) <= 1, where);
                moved += Math.abs(expected[i] - actual[i]);
            }
            assertTrue(moved <= 2, where);
        });
    }

    @Test
    void shouldNotDependOnTheUnitOfThroughput() {
        Property.forAll("scaled throughputs", DIMS, 1000, v -> {
            int n = (int) v[0];
            int batch = ShareCalculator.MIN_SHARE * n + (int) v[1] - 1;
            double[] tp = new SplittableRandom(v[2]).doubles(n, 0.01, 1000).toArray();
            double[] scaled = Arrays.stream(tp).map(t -> t * 1024).toArray();
            assertArrayEquals(ShareCalculator.split(batch, tp), ShareCalculator.split(batch, scaled),
                    "B=" + batch + " tp=" + Arrays.toString(tp));
        });
    }

    @Test
    void shouldRefuseABatchTooSmallForItsWorkersWithAnArgumentError() {
        Property.forAll("too small a batch", List.of(Dim.log("workers", 1, 256), Dim.of("batch", Integer.MIN_VALUE, 511),
                Dim.of("throughputSeed", Long.MIN_VALUE, Long.MAX_VALUE)), 500, v -> {
            int n = (int) v[0];
            int batch = (int) v[1];
            if (batch < ShareCalculator.MIN_SHARE * n) {
                assertThrows(IllegalArgumentException.class, () -> ShareCalculator.split(batch, throughputs(n, v[2])));
            }
        });
    }

    /** Throughputs from a seed: mostly log-uniform between 1e-3 and 1e4 samples/s, one in four an odd value. */
    static double[] throughputs(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double[] tp = new double[n];
        for (int i = 0; i < n; i++) {
            tp[i] = random.nextInt(4) == 0 ? ODD[random.nextInt(ODD.length)] : Math.pow(10, random.nextDouble(-3, 4));
        }
        return tp;
    }

    /**
     * What the split must make of the reports, written out independently: a valid report is a positive finite
     * number; every other one is the mean of the valid ones (1 when none is valid). The mean is taken as the sum
     * of halves so two reports of {@code Double.MAX_VALUE} do not overflow.
     */
    static double[] validated(double[] tp) {
        double mean = 0;
        int valid = 0;
        for (double t : tp) {
            if (Double.isFinite(t) && t > 0) {
                valid++;
            }
        }
        for (double t : tp) {
            if (Double.isFinite(t) && t > 0) {
                mean += t / valid;
            }
        }
        double fallback = valid == 0 ? 1.0 : mean;
        return Arrays.stream(tp).map(t -> Double.isFinite(t) && t > 0 ? t : fallback).toArray();
    }
}

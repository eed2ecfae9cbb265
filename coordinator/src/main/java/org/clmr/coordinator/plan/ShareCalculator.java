package org.clmr.coordinator.plan;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * Splits the global batch between workers in proportion to their throughput. Pure functions.
 *
 * <p>Ideal shares are {@code B * t_i / sum(t)}; any ideal share below the minimum is raised to it and the
 * rest re-split among the others (repeated until stable); integers come from the floors plus one for the
 * largest remainders (ties to the lower rank), so shares sum to exactly B.
 */
public final class ShareCalculator {
    /** Each worker computes at least this many tracks (two views each: BN statistics need >= 2 rows). */
    public static final int MIN_SHARE = 2;

    private ShareCalculator() {
    }

    /** How many workers a global batch can feed. */
    public static int maxWorkers(int globalBatch) {
        return globalBatch / MIN_SHARE;
    }

    /**
     * Shares proportional to throughput.
     *
     * @param globalBatch B, at least {@code MIN_SHARE * throughput.length}
     * @param throughput  samples/s per worker in rank order, any double; non-finite or non-positive values count
     *                    as the mean of the valid ones (or 1 if none is valid)
     * @return integer shares, each >= {@link #MIN_SHARE}, summing to B
     */
    public static int[] split(int globalBatch, double[] throughput) {
        int n = throughput.length;
        if (n == 0) {
            throw new IllegalArgumentException("no workers to split a batch of " + globalBatch + " between");
        }
        if (globalBatch < MIN_SHARE * n) {
            throw new IllegalArgumentException("a global batch of " + globalBatch + " cannot give " + n
                    + " workers " + MIN_SHARE + " tracks each");
        }
        double[] w = sanitize(throughput);
        double[] ideal = new double[n];
        boolean[] clamped = new boolean[n];
        boolean changed = true;
        while (changed) {
            changed = false;
            double free = globalBatch;
            double weight = 0;
            for (int i = 0; i < n; i++) {
                if (clamped[i]) {
                    free -= MIN_SHARE;
                } else {
                    weight += w[i];
                }
            }
            for (int i = 0; i < n; i++) {
                ideal[i] = clamped[i] ? MIN_SHARE : free * w[i] / weight;
                if (!clamped[i] && ideal[i] < MIN_SHARE) {
                    clamped[i] = true;
                    changed = true;
                }
            }
        }
        int[] shares = new int[n];
        int sum = 0;
        for (int i = 0; i < n; i++) {
            shares[i] = Math.max(MIN_SHARE, (int) Math.floor(ideal[i] + 1e-9));
            sum += shares[i];
        }
        Integer[] byRemainder = IntStream.range(0, n).boxed().toArray(Integer[]::new);
        Arrays.sort(byRemainder, Comparator.comparingDouble((Integer i) -> -(ideal[i] - shares[i]))
                .thenComparingInt(i -> i));
        for (int k = 0; sum < globalBatch; k = (k + 1) % n) {
            shares[byRemainder[k]]++;
            sum++;
        }
        for (int k = n - 1; sum > globalBatch; k = (k + n - 1) % n) {
            int i = byRemainder[k];
            if (shares[i] > MIN_SHARE) {
                shares[i]--;
                sum--;
            }
        }
        return shares;
    }

    /**
     * Predicted time of one step in seconds: the slowest worker's share over its throughput (invalid reports
     * count as the mean of the valid ones, as in {@link #split}).
     */
    public static double stepTime(int[] shares, double[] throughput) {
        double[] w = sanitize(throughput);
        double worst = 0;
        for (int i = 0; i < shares.length; i++) {
            worst = Math.max(worst, shares[i] / w[i]);
        }
        return worst / fastest(throughput);
    }

    /**
     * Whether re-splitting is worth a new generation: the predicted step time of the proportional split
     * is shorter than the current one by more than {@code threshold} (a fraction).
     */
    public static boolean worthRebalancing(int globalBatch, int[] current, double[] throughput, double threshold) {
        double now = stepTime(current, throughput);
        double better = stepTime(split(globalBatch, throughput), throughput);
        return now > 0 && (now - better) / now > threshold;
    }

    /**
     * Weights from the reports, in units of the fastest valid one (so that reports near {@code Double.MAX_VALUE}
     * cannot overflow a sum): a valid report is a positive finite number; any other counts as the mean of the
     * valid ones, or as the fastest when none is valid.
     */
    private static double[] sanitize(double[] throughput) {
        double fastest = fastest(throughput);
        double sum = 0;
        int valid = 0;
        for (double t : throughput) {
            if (valid(t)) {
                sum += t / fastest;
                valid++;
            }
        }
        double fallback = valid == 0 ? 1.0 : sum / valid;
        double[] w = new double[throughput.length];
        for (int i = 0; i < w.length; i++) {
            w[i] = valid(throughput[i]) ? throughput[i] / fastest : fallback;
        }
        return w;
    }

    /** The largest valid report, or 1 sample/s when none is valid. */
    private static double fastest(double[] throughput) {
        double fastest = 0;
        for (double t : throughput) {
            if (valid(t)) {
                fastest = Math.max(fastest, t);
            }
        }
        return fastest == 0 ? 1.0 : fastest;
    }

    private static boolean valid(double throughput) {
        return Double.isFinite(throughput) && throughput > 0;
    }
}

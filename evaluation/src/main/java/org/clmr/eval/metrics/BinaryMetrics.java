package org.clmr.eval.metrics;

import java.util.Arrays;

/**
 * ROC-AUC and average precision of one ranking, defined exactly as scikit-learn's
 * {@code roc_auc_score} and {@code average_precision_score} for binary labels. Pure functions, any thread.
 */
public final class BinaryMetrics {
    private BinaryMetrics() {
    }

    /**
     * ROC-AUC as the Mann-Whitney statistic with average ranks for ties: the probability that a random
     * positive scores above a random negative, ties counting one half. Equals the trapezoidal area under
     * scikit-learn's ROC curve.
     *
     * @return the area, or NaN when {@code positive} holds only one class (undefined)
     */
    public static double rocAuc(boolean[] positive, double[] scores) {
        check(positive, scores);
        int n = scores.length;
        long positives = count(positive);
        long negatives = n - positives;
        if (positives == 0 || negatives == 0) {
            return Double.NaN;
        }
        int[] order = ascending(scores);
        double positiveRankSum = 0;
        int i = 0;
        while (i < n) {
            int j = i;
            while (j + 1 < n && scores[order[j + 1]] == scores[order[i]]) {
                j++;
            }
            // ranks i+1 .. j+1 share their mean
            double averageRank = (i + j + 2) / 2.0;
            for (int k = i; k <= j; k++) {
                if (positive[order[k]]) {
                    positiveRankSum += averageRank;
                }
            }
            i = j + 1;
        }
        double u = positiveRankSum - positives * (positives + 1) / 2.0;
        return u / ((double) positives * negatives);
    }

    /**
     * Average precision: the step-wise sum over distinct score thresholds (highest first) of the gain in
     * recall times the precision at that threshold, without interpolation. All positive gives 1.0.
     *
     * @return the average precision, or NaN when there is no positive (undefined)
     */
    public static double averagePrecision(boolean[] positive, double[] scores) {
        check(positive, scores);
        int n = scores.length;
        long positives = count(positive);
        if (positives == 0) {
            return Double.NaN;
        }
        int[] order = ascending(scores);
        double sum = 0;
        long truePositives = 0;
        long falsePositives = 0;
        int i = n - 1;
        while (i >= 0) {
            int j = i;
            while (j - 1 >= 0 && scores[order[j - 1]] == scores[order[i]]) {
                j--;
            }
            long gained = 0;
            for (int k = j; k <= i; k++) {
                if (positive[order[k]]) {
                    gained++;
                } else {
                    falsePositives++;
                }
            }
            truePositives += gained;
            if (gained > 0) {
                sum += ((double) gained / positives) * ((double) truePositives / (truePositives + falsePositives));
            }
            i = j - 1;
        }
        return sum;
    }

    private static void check(boolean[] positive, double[] scores) {
        if (positive.length != scores.length) {
            throw new IllegalArgumentException("labels and scores differ in length: " + positive.length + " vs " + scores.length);
        }
        for (double s : scores) {
            if (Double.isNaN(s)) {
                throw new IllegalArgumentException("a score is NaN; scores must be numbers");
            }
        }
    }

    private static long count(boolean[] positive) {
        long c = 0;
        for (boolean p : positive) {
            if (p) {
                c++;
            }
        }
        return c;
    }

    /** Indices sorted by ascending score (stable); ties are grouped by the callers. */
    private static int[] ascending(double[] scores) {
        int n = scores.length;
        Integer[] boxed = new Integer[n];
        for (int i = 0; i < n; i++) {
            boxed[i] = i;
        }
        Arrays.sort(boxed, (a, b) -> Double.compare(scores[a], scores[b]));
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = boxed[i];
        }
        return order;
    }
}

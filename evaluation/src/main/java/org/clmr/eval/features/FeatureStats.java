package org.clmr.eval.features;

import org.clmr.protocol.UserError;

import java.util.ArrayList;
import java.util.List;

/**
 * Per-dimension statistics of a feature set's windows: mean, population standard deviation (divisor n,
 * as scikit-learn's {@code StandardScaler}), minimum and maximum. A dimension is <em>constant</em> (dead)
 * when it takes one value on every window, as a ReLU unit of a randomly initialised encoder that never
 * fires does. Computed in double precision with two passes (no cancellation for columns far from zero).
 * Immutable; any thread.
 */
public final class FeatureStats {
    private final int windows;
    private final double[] mean;
    private final double[] std;
    private final float[] min;
    private final float[] max;

    private FeatureStats(int windows, double[] mean, double[] std, float[] min, float[] max) {
        this.windows = windows;
        this.mean = mean;
        this.std = std;
        this.min = min;
        this.max = max;
    }

    /**
     * Statistics over every window of {@code set}.
     *
     * @param name the split's name, for the error message
     * @throws UserError when a feature is NaN or infinite (the encoder's output is broken; a probe would be meaningless)
     */
    public static FeatureStats of(FeatureSet set, String name) {
        int dim = set.dim();
        int n = set.windows();
        float[] x = set.matrix();
        double[] sum = new double[dim];
        float[] min = new float[dim];
        float[] max = new float[dim];
        java.util.Arrays.fill(min, Float.POSITIVE_INFINITY);
        java.util.Arrays.fill(max, Float.NEGATIVE_INFINITY);
        for (int r = 0; r < n; r++) {
            int base = r * dim;
            for (int k = 0; k < dim; k++) {
                float v = x[base + k];
                if (!Float.isFinite(v)) {
                    throw new UserError("the " + name + " features hold " + v + " in dimension " + k + " of window " + r
                            + "; the encoder produced non-finite output, so no probe can be trained: check the checkpoint");
                }
                sum[k] += v;
                min[k] = Math.min(min[k], v);
                max[k] = Math.max(max[k], v);
            }
        }
        double[] mean = new double[dim];
        for (int k = 0; k < dim; k++) {
            mean[k] = n == 0 ? 0 : sum[k] / n;
        }
        double[] ss = new double[dim];
        for (int r = 0; r < n; r++) {
            int base = r * dim;
            for (int k = 0; k < dim; k++) {
                double d = x[base + k] - mean[k];
                ss[k] += d * d;
            }
        }
        double[] std = new double[dim];
        for (int k = 0; k < dim; k++) {
            std[k] = n == 0 || min[k] == max[k] ? 0.0 : Math.sqrt(ss[k] / n);
        }
        return new FeatureStats(n, mean, std, min, max);
    }

    public int dim() {
        return mean.length;
    }

    /** Windows the statistics were taken over. */
    public int windows() {
        return windows;
    }

    /** Mean of dimension {@code k}. */
    public double mean(int k) {
        return mean[k];
    }

    /** Population standard deviation of dimension {@code k}; exactly 0 for a constant one. */
    public double std(int k) {
        return std[k];
    }

    /** Whether dimension {@code k} takes one value on every window. */
    public boolean constant(int k) {
        return min[k] == max[k];
    }

    /** The constant dimensions, ascending. */
    public List<Integer> constantDims() {
        List<Integer> out = new ArrayList<>();
        for (int k = 0; k < dim(); k++) {
            if (constant(k)) {
                out.add(k);
            }
        }
        return out;
    }

    /** Share of constant dimensions, in [0, 1]. */
    public double constantShare() {
        return dim() == 0 ? 0 : (double) constantDims().size() / dim();
    }

    /**
     * Smallest and largest standard deviation of the non-constant dimensions ({@code {NaN, NaN}} if every
     * dimension is constant): how unevenly the encoder scales its outputs.
     */
    public double[] stdRange() {
        double lo = Double.NaN;
        double hi = Double.NaN;
        for (int k = 0; k < dim(); k++) {
            if (!constant(k)) {
                lo = Double.isNaN(lo) ? std[k] : Math.min(lo, std[k]);
                hi = Double.isNaN(hi) ? std[k] : Math.max(hi, std[k]);
            }
        }
        return new double[] {lo, hi};
    }
}

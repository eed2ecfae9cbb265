package org.clmr.eval.probe;

import org.clmr.eval.features.FeatureStats;

import java.util.Arrays;

/**
 * The affine map a head applies to raw encoder features before its first layer:
 * {@code x'[k] = (x[k] - shift[k]) * factor[k]}. Standardisation uses the training windows' mean and
 * {@code 1 / std}; a dimension constant on the training windows gets factor 0, so it reads 0 on every split
 * (scikit-learn's StandardScaler leaves such a column at scale 1, which is the same where the column is
 * constant everywhere and keeps a head from reading values it never saw in training). The identity
 * (shift 0, factor 1) leaves features untouched bit for bit: the paper's unstandardised protocol.
 * Part of a head: stored and applied with it. Immutable; any thread.
 */
public final class FeatureScaler {
    private final double[] shift;
    private final double[] factor;
    private final boolean identity;

    private FeatureScaler(double[] shift, double[] factor, boolean identity) {
        this.shift = shift;
        this.factor = factor;
        this.identity = identity;
    }

    /** Leaves {@code dim} features as they are. */
    public static FeatureScaler identity(int dim) {
        double[] ones = new double[dim];
        Arrays.fill(ones, 1.0);
        return new FeatureScaler(new double[dim], ones, true);
    }

    /** Standardises with the given (training windows') statistics. */
    public static FeatureScaler standardising(FeatureStats stats) {
        int dim = stats.dim();
        double[] shift = new double[dim];
        double[] factor = new double[dim];
        for (int k = 0; k < dim; k++) {
            shift[k] = stats.mean(k);
            factor[k] = stats.constant(k) ? 0.0 : 1.0 / stats.std(k);
        }
        return new FeatureScaler(shift, factor, false);
    }

    /**
     * A scaler with explicit values (a stored head); copied.
     *
     * @throws IllegalArgumentException when the lengths differ or a value is not finite
     */
    public static FeatureScaler of(double[] shift, double[] factor) {
        if (shift.length != factor.length) {
            throw new IllegalArgumentException("shift has " + shift.length + " values, factor " + factor.length);
        }
        boolean identity = true;
        for (int k = 0; k < shift.length; k++) {
            if (!Double.isFinite(shift[k]) || !Double.isFinite(factor[k])) {
                throw new IllegalArgumentException("scaler value " + k + " is not finite: shift " + shift[k] + ", factor " + factor[k]);
            }
            identity &= shift[k] == 0.0 && factor[k] == 1.0;
        }
        return new FeatureScaler(shift.clone(), factor.clone(), identity);
    }

    public int dim() {
        return shift.length;
    }

    /** Whether this scaler changes nothing. */
    public boolean isIdentity() {
        return identity;
    }

    /** The scaled value of raw feature {@code v} of dimension {@code k}. */
    double apply(int k, double v) {
        return (v - shift[k]) * factor[k];
    }

    /** Subtracted from dimension {@code k} before scaling. */
    public double shift(int k) {
        return shift[k];
    }

    /** Multiplies dimension {@code k} after the shift; 0 for a dimension constant in training. */
    public double factor(int k) {
        return factor[k];
    }

    /** Copies of the shifts. */
    public double[] shifts() {
        return shift.clone();
    }

    /** Copies of the factors. */
    public double[] factors() {
        return factor.clone();
    }
}

package org.clmr.data.augment;

import org.clmr.data.random.Rng;

import java.util.List;

/**
 * Augmentation 5: a coin flip between a low-pass and a high-pass filter, each a single 2nd-order Butterworth
 * biquad (Robert Bristow-Johnson's cookbook, Q = 1/sqrt(2), bilinear transform with pre-warping), as SoX's
 * {@code lowpass}/{@code highpass} with their default two poles and width: the response is exactly -3 dB at
 * the cut-off and falls 12 dB per octave beyond it. Runs in double precision from zero state (no padding).
 * A cut-off at or above 0.49 of the sample rate is clamped there. Draws two values: the type coin, then one
 * uniform mapped into the chosen type's range.
 */
public final class Filter implements Augmentation {
    /** Parameter value of a low-pass. */
    public static final int LOW_PASS = 0;
    /** Parameter value of a high-pass. */
    public static final int HIGH_PASS = 1;

    private final double lowMin;
    private final double lowMax;
    private final double highMin;
    private final double highMax;

    /** Low-pass cut-off uniform in [lowMin, lowMax] Hz, high-pass in [highMin, highMax] Hz, each half the time. */
    public Filter(double lowMin, double lowMax, double highMin, double highMax) {
        this.lowMin = lowMin;
        this.lowMax = lowMax;
        this.highMin = highMin;
        this.highMax = highMax;
    }

    @Override
    public String name() {
        return "filter";
    }

    @Override
    public String description() {
        return "2nd-order Butterworth low-pass or high-pass (coin flip), -3 dB at the cut-off";
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(Parameter.choice("type", List.of("low-pass", "high-pass"), "which filter, 50/50"),
                Parameter.range("cutoff-hz", "Hz", Math.min(lowMin, highMin), Math.max(lowMax, highMax),
                        "-3 dB point: low-pass " + (int) lowMin + ".." + (int) lowMax + " Hz, high-pass "
                                + (int) highMin + ".." + (int) highMax + " Hz"));
    }

    @Override
    public int draws() {
        return 2;
    }

    @Override
    public void draw(Rng rng, double[] out, double[] fixed) {
        int type = rng.nextDouble() < 0.5 ? LOW_PASS : HIGH_PASS;
        double u = rng.nextDouble();
        out[0] = Double.isNaN(fixed[0]) ? type : fixed[0];
        boolean high = out[0] == HIGH_PASS;
        double cutoff = high ? highMin + u * (highMax - highMin) : lowMin + u * (lowMax - lowMin);
        out[1] = Double.isNaN(fixed[1]) ? cutoff : fixed[1];
    }

    @Override
    public void apply(float[] x, int sampleRate, double[] p, Scratch scratch) {
        apply(x, sampleRate, p[0] == HIGH_PASS, p[1]);
    }

    /** Filters {@code x} in place with a 2nd-order Butterworth high-pass or low-pass at {@code cutoffHz}. */
    public static void apply(float[] x, int sampleRate, boolean highPass, double cutoffHz) {
        double f0 = Math.min(cutoffHz, 0.49 * sampleRate);
        double w0 = 2 * Math.PI * f0 / sampleRate;
        double cos = Math.cos(w0);
        double alpha = Math.sin(w0) / (2 * Math.sqrt(0.5));
        double a0 = 1 + alpha;
        double b0 = (highPass ? (1 + cos) / 2 : (1 - cos) / 2) / a0;
        double b1 = (highPass ? -(1 + cos) : 1 - cos) / a0;
        double b2 = b0;
        double a1 = -2 * cos / a0;
        double a2 = (1 - alpha) / a0;
        double z1 = 0;
        double z2 = 0;
        // Transposed direct form II.
        for (int i = 0; i < x.length; i++) {
            double in = x[i];
            double y = b0 * in + z1;
            z1 = b1 * in - a1 * y + z2;
            z2 = b2 * in - a2 * y;
            x[i] = (float) y;
        }
    }
}

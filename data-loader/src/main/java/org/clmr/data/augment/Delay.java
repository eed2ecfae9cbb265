package org.clmr.data.augment;

import org.clmr.data.random.Rng;

import java.util.List;

/**
 * Augmentation 6: a delayed copy mixed in, {@code out[t] = (x[t] + volume * x[t - d]) / 2}, the delayed part
 * zero for {@code t < d}; d is drawn from {min, min+step, ..., max} ms and rounded to whole samples. Draws one
 * value (uniform index into the grid, by scaling one double so that the draw count is fixed).
 */
public final class Delay implements Augmentation {
    private final int minMs;
    private final int maxMs;
    private final int stepMs;
    private final double volume;

    /** Delays on the grid {minMs, minMs + stepMs, ..., <= maxMs}, mixed at {@code volume}. */
    public Delay(int minMs, int maxMs, int stepMs, double volume) {
        this.minMs = minMs;
        this.maxMs = maxMs;
        this.stepMs = stepMs;
        this.volume = volume;
    }

    @Override
    public String name() {
        return "delay";
    }

    @Override
    public String description() {
        return "out = (x + volume * x delayed by d) / 2";
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(Parameter.range("ms", "ms", minMs, maxMs, "delay d, in steps of " + stepMs + " ms"),
                Parameter.range("volume", "", volume, volume, "level of the delayed copy"));
    }

    @Override
    public int draws() {
        return 1;
    }

    @Override
    public void draw(Rng rng, double[] out, double[] fixed) {
        int count = (maxMs - minMs) / stepMs + 1;
        int k = Math.min(count - 1, (int) (rng.nextDouble() * count));
        out[0] = Double.isNaN(fixed[0]) ? minMs + k * stepMs : fixed[0];
        out[1] = Double.isNaN(fixed[1]) ? volume : fixed[1];
    }

    @Override
    public void apply(float[] x, int sampleRate, double[] p, Scratch scratch) {
        apply(x, sampleRate, p[0], p[1]);
    }

    /** Mixes in {@code x} delayed by {@code ms} (rounded to samples) at {@code volume}, halving the sum. */
    public static void apply(float[] x, int sampleRate, double ms, double volume) {
        int d = (int) Math.round(ms * sampleRate / 1000.0);
        float v = (float) volume;
        // Backwards, so that x[t - d] is still the input when it is read.
        for (int t = x.length - 1; t >= d && t >= 0; t--) {
            x[t] = (x[t] + v * x[t - d]) * 0.5f;
        }
        for (int t = Math.min(d, x.length) - 1; t >= 0; t--) {
            x[t] = x[t] * 0.5f;
        }
    }
}

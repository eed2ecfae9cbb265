package org.clmr.data.augment;

import org.clmr.data.random.Rng;

import java.util.List;

/** Augmentation 2: polarity inversion, x -> -x. No parameters, no draws beyond the chain's coin. */
public final class Polarity implements Augmentation {

    @Override
    public String name() {
        return "polarity";
    }

    @Override
    public String description() {
        return "polarity inversion x -> -x";
    }

    @Override
    public List<Parameter> parameters() {
        return List.of();
    }

    @Override
    public int draws() {
        return 0;
    }

    @Override
    public void draw(Rng rng, double[] out, double[] fixed) {
        // Nothing to draw: the inversion has no parameter.
    }

    @Override
    public void apply(float[] x, int sampleRate, double[] p, Scratch scratch) {
        invert(x);
    }

    /** Negates every sample (exact in IEEE arithmetic). */
    public static void invert(float[] x) {
        for (int i = 0; i < x.length; i++) {
            x[i] = -x[i];
        }
    }
}

package org.clmr.data.augment;

import org.clmr.data.random.Rng;

import java.util.List;

/** Augmentation 4: gain, x -> x * 10^(dB/20), with dB uniform in [min, max]. Draws one value. */
public final class Gain implements Augmentation {
    private final double minDb;
    private final double maxDb;

    /** Gain uniform in [minDb, maxDb]. */
    public Gain(double minDb, double maxDb) {
        this.minDb = minDb;
        this.maxDb = maxDb;
    }

    @Override
    public String name() {
        return "gain";
    }

    @Override
    public String description() {
        return "gain in dB";
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(Parameter.range("db", "dB", minDb, maxDb, "gain"));
    }

    @Override
    public int draws() {
        return 1;
    }

    @Override
    public void draw(Rng rng, double[] out, double[] fixed) {
        double db = rng.uniform(minDb, maxDb);
        out[0] = Double.isNaN(fixed[0]) ? db : fixed[0];
    }

    @Override
    public void apply(float[] x, int sampleRate, double[] p, Scratch scratch) {
        apply(x, p[0]);
    }

    /** Scales {@code x} by {@code 10^(db/20)}. */
    public static void apply(float[] x, double db) {
        double g = Math.pow(10, db / 20);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (x[i] * g);
        }
    }
}

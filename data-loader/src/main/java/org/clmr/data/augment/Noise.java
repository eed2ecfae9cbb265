package org.clmr.data.augment;

import org.clmr.data.random.Rng;

import java.util.List;

/**
 * Augmentation 3: white Gaussian noise at a signal-to-noise ratio relative to the crop's mean power
 * {@code P = sum(x^2) / n}: noise variance {@code P / 10^(snr/10)}. A silent crop stays silent (its power is
 * zero). Draws two values: the SNR, then a 53-bit seed for the noise's own {@link Rng} (so the view's
 * generator advances by the same amount whatever the crop length).
 */
public final class Noise implements Augmentation {
    private final double minSnrDb;
    private final double maxSnrDb;

    /** Noise with an SNR uniform in [minSnrDb, maxSnrDb]. */
    public Noise(double minSnrDb, double maxSnrDb) {
        this.minSnrDb = minSnrDb;
        this.maxSnrDb = maxSnrDb;
    }

    @Override
    public String name() {
        return "noise";
    }

    @Override
    public String description() {
        return "white Gaussian noise at an SNR relative to the crop's power";
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(Parameter.range("snr-db", "dB", minSnrDb, maxSnrDb, "signal-to-noise ratio"),
                Parameter.range("seed", "", 0, 0x1p53, "seed of the noise generator"));
    }

    @Override
    public int draws() {
        return 2;
    }

    @Override
    public void draw(Rng rng, double[] out, double[] fixed) {
        double snr = rng.uniform(minSnrDb, maxSnrDb);
        long seed = rng.nextLong();
        out[0] = Double.isNaN(fixed[0]) ? snr : fixed[0];
        // 53 bits, so that a double holds the seed exactly.
        out[1] = Double.isNaN(fixed[1]) ? (double) (seed >>> 11) : fixed[1];
    }

    @Override
    public void apply(float[] x, int sampleRate, double[] p, Scratch scratch) {
        add(x, p[0], (long) p[1]);
    }

    /** Adds white Gaussian noise at {@code snrDb} below the mean power of {@code x}, from generator {@code seed}. */
    public static void add(float[] x, double snrDb, long seed) {
        double power = 0;
        for (float v : x) {
            power += (double) v * v;
        }
        power /= Math.max(1, x.length);
        if (power == 0) {
            return;
        }
        double sigma = Math.sqrt(power / Math.pow(10, snrDb / 10));
        Rng noise = new Rng(seed);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (x[i] + sigma * noise.nextGaussian());
        }
    }
}

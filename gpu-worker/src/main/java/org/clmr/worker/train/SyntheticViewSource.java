package org.clmr.worker.train;

import org.clmr.data.ViewTransform;
import org.clmr.data.random.Rng;
import org.clmr.protocol.UserError;
import org.clmr.worker.step.ViewPairs;

/**
 * A generated, deterministic stand-in for a dataset: track t is a chord of two harmonic tones whose
 * pitches are drawn from {@code Rng.of(seed, t)}; each view is a random crop (phase) of it with a random
 * gain and a little noise, drawn from {@code Rng.of(seed, epoch, t, view)}, then transformed by the
 * {@link ViewTransform} (the augmentation chain) with the same generator, as the batch pipeline does.
 * Epoch e visits the tracks in the permutation drawn from {@code Rng.of(seed, e)}. Thread-safe if the
 * transform is.
 */
public final class SyntheticViewSource implements ViewPairSource {
    private static final long ORDER = 0x4F524445L;
    private final long seed;
    private final int tracks;
    private final int batch;
    private final int length;
    private final int sampleRate;
    private final ViewTransform transform;

    public SyntheticViewSource(long seed, int tracks, int batch, int length, int sampleRate, ViewTransform transform) {
        if (batch < 2 || tracks < batch) {
            throw new UserError("the global batch (" + batch + ") must lie in [2, " + tracks + "], the tracks of the"
                    + " generated tone set; lower --batch or raise clmr.worker.train.synthetic-tracks");
        }
        this.seed = seed;
        this.tracks = tracks;
        this.batch = batch;
        this.length = length;
        this.sampleRate = sampleRate;
        this.transform = transform;
    }

    @Override
    public int batchSize() {
        return batch;
    }

    @Override
    public int cropLength() {
        return length;
    }

    @Override
    public long stepsPerEpoch() {
        return tracks / batch;
    }

    @Override
    public String dataKey() {
        return "generated tones: " + tracks + " tracks, seed " + seed;
    }

    @Override
    public ViewPairs batch(int epoch, long step) {
        return slice(epoch, step, 0, batch);
    }

    /** Generates only the slice's tracks: each view depends on (seed, epoch, track, view) alone. */
    @Override
    public ViewPairs slice(int epoch, long step, int offset, int count) {
        if (offset < 0 || count < 1 || offset + count > batch) {
            throw new IllegalArgumentException("pairs [" + offset + ", " + (offset + count) + ") of a batch of " + batch);
        }
        int[] order = new int[tracks];
        for (int i = 0; i < tracks; i++) {
            order[i] = i;
        }
        Rng.of(seed, ORDER, epoch).shuffle(order);
        float[] first = new float[count * length];
        float[] second = new float[count * length];
        for (int b = 0; b < count; b++) {
            int track = order[(int) (step * batch + offset + b)];
            view(track, epoch, 0, first, b * length);
            view(track, epoch, 1, second, b * length);
        }
        return new ViewPairs(count, length, first, second);
    }

    private void view(int track, int epoch, int view, float[] out, int offset) {
        Rng pitch = Rng.of(seed, track);
        double f1 = 110 * Math.pow(2, pitch.nextInt(36) / 12.0);
        double f2 = f1 * Math.pow(2, (3 + pitch.nextInt(5)) / 12.0);
        Rng rng = Rng.of(seed, epoch, track, view);
        double start = rng.uniform(0, sampleRate);
        double gain = rng.uniform(0.3, 0.9);
        float[] x = new float[length];
        for (int i = 0; i < length; i++) {
            double t = (start + i) / sampleRate;
            double s = Math.sin(2 * Math.PI * f1 * t) + 0.5 * Math.sin(4 * Math.PI * f1 * t)
                    + 0.7 * Math.sin(2 * Math.PI * f2 * t);
            x[i] = (float) (gain * s / 2.2 + 0.01 * rng.nextGaussian());
        }
        transform.apply(x, sampleRate, rng);
        System.arraycopy(x, 0, out, offset, length);
    }
}

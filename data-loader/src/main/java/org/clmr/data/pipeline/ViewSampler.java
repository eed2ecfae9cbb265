package org.clmr.data.pipeline;

import org.clmr.data.ViewTransform;
import org.clmr.data.dataset.PretrainView;
import org.clmr.data.random.Rng;

/**
 * Makes one view of one item: a random crop, then the view transform, both drawn from
 * {@code Rng.of(runSeed, epoch, item, view)}. The result depends on those four numbers alone, never on
 * the worker, the thread or the batch split. Thread-safe if the transform is.
 */
public final class ViewSampler {
    private final PretrainView data;
    private final long runSeed;
    private final int cropLength;
    private final ViewTransform transform;

    /**
     * @param data       what is sampled
     * @param runSeed    the run's seed
     * @param cropLength samples per view (the model's input length)
     * @param transform  the augmentation chain after the crop ({@link ViewTransform#IDENTITY} for none)
     */
    public ViewSampler(PretrainView data, long runSeed, int cropLength, ViewTransform transform) {
        if (cropLength < 1) {
            throw new IllegalArgumentException("crop length must be positive, was " + cropLength);
        }
        this.data = data;
        this.runSeed = runSeed;
        this.cropLength = cropLength;
        this.transform = transform;
    }

    /** Samples per view. */
    public int cropLength() {
        return cropLength;
    }

    /** The view's generator: the crop offset is its first draw, the transform's draws follow. */
    public Rng rng(int epoch, int item, int view) {
        return Rng.of(runSeed, epoch, item, view);
    }

    /**
     * Where view {@code view} of {@code item} in {@code epoch} is cropped: uniform in
     * [0, length - cropLength], or 0 for an item shorter than the crop (read zero-padded).
     */
    public long cropOffset(int epoch, int item, int view) {
        return drawOffset(rng(epoch, item, view), item);
    }

    private long drawOffset(Rng rng, int item) {
        return rng.nextLong(Math.max(1, data.length(item) - cropLength + 1));
    }

    /**
     * Writes the view into {@code out} (length {@code cropLength}) and returns its crop offset.
     *
     * @param out a scratch or destination array of exactly {@code cropLength} floats
     */
    public long make(int epoch, int item, int view, float[] out) {
        Rng rng = rng(epoch, item, view);
        long offset = drawOffset(rng, item);
        data.readCrop(item, offset, out, 0, cropLength);
        transform.apply(out, data.dataset().sampleRate(), rng);
        return offset;
    }
}

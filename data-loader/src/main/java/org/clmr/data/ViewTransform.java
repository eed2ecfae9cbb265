package org.clmr.data;

import org.clmr.data.random.Rng;

/**
 * What the batch pipeline applies to one view after cropping it: the augmentation chain, or nothing.
 * The crop (augmentation 1) is drawn by the pipeline from the same {@link Rng} first; the transform
 * then draws everything else from it, so a view is a function of (run seed, epoch, track, view) alone.
 * Implementations must be thread-safe (the pipeline calls them from several threads) and keep the
 * length of the view.
 */
@FunctionalInterface
public interface ViewTransform {

    /** No augmentation. */
    ViewTransform IDENTITY = (view, sampleRate, rng) -> { };

    /**
     * Transforms {@code view} in place.
     *
     * @param view       the cropped samples, in [-1, 1]
     * @param sampleRate Hz
     * @param rng        this view's generator
     */
    void apply(float[] view, int sampleRate, Rng rng);
}

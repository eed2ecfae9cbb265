package org.clmr.data.augment;

/**
 * Per-thread working memory of the augmentations: growable float arrays in numbered slots, so that the hot
 * path allocates only when a crop is longer than any seen before on this thread. Not thread-safe: one per
 * thread ({@link AugmentationChain} keeps one in a ThreadLocal; direct callers make their own).
 */
public final class Scratch {
    static final int PITCH_STRETCH = 0;
    static final int PITCH_TABLE = 1;
    static final int REVERB_WET = 2;
    static final int REVERB_LINES = 3;
    private static final int SLOTS = 4;

    private final float[][] floats = new float[SLOTS][];

    /** An array of at least {@code length} floats for {@code slot}; its contents are undefined. */
    float[] floats(int slot, int length) {
        float[] a = floats[slot];
        if (a == null || a.length < length) {
            a = new float[Math.max(length, a == null ? 0 : a.length + a.length / 2)];
            floats[slot] = a;
        }
        return a;
    }
}

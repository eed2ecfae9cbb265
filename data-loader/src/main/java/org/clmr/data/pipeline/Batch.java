package org.clmr.data.pipeline;

/**
 * Two views of every track of one {@link BatchRequest}, ready for the model. Each view array is laid out
 * as {@code [share, 1, cropLength]} (row-major: track i's samples at {@code i * cropLength}), the shape
 * SampleCNN takes. The arrays belong to whoever took the batch.
 *
 * @param request     what was asked for
 * @param items       the pre-training view's item index of each row
 * @param cropOffsets [2][share]: where each view's crop starts in its item (for logs and tests)
 * @param view0       first views, [share, 1, cropLength]
 * @param view1       second views, [share, 1, cropLength]
 * @param cropLength  samples per view
 */
public record Batch(BatchRequest request, int[] items, long[][] cropOffsets, float[] view0, float[] view1,
                   int cropLength) {

    /** The views of view number {@code v} (0 or 1). */
    public float[] view(int v) {
        return v == 0 ? view0 : view1;
    }

    /** Tracks in the batch. */
    public int share() {
        return items.length;
    }
}

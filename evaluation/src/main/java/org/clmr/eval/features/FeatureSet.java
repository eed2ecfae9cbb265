package org.clmr.eval.features;

import java.util.ArrayList;
import java.util.List;

/**
 * Frozen features of a set of clips: each clip has one or more windows (consecutive crops of the model's
 * input length), each window one feature vector, and the clip has one 0/1 label per tag. Windows are
 * rows of one row-major float matrix {@code [windows, dim]}; clip {@code c} owns rows
 * {@code [windowStart[c], windowStart[c + 1])}. Immutable by convention; any thread.
 */
public final class FeatureSet {
    private final List<String> ids;
    private final List<String> tags;
    private final int dim;
    private final float[] features;
    private final int[] windowStart;
    private final boolean[][] labels;

    /**
     * @param ids         clip ids, one per clip
     * @param tags        tag names, one per label column
     * @param dim         feature width
     * @param features    [windows, dim] row-major
     * @param windowStart clips + 1 offsets into the rows, starting at 0, non-decreasing, each clip at least one window
     * @param labels      [clips][tags]
     */
    public FeatureSet(List<String> ids, List<String> tags, int dim, float[] features, int[] windowStart, boolean[][] labels) {
        if (windowStart.length != ids.size() + 1 || windowStart[0] != 0) {
            throw new IllegalArgumentException("windowStart needs clips + 1 = " + (ids.size() + 1) + " offsets from 0");
        }
        for (int c = 0; c < ids.size(); c++) {
            if (windowStart[c + 1] <= windowStart[c]) {
                throw new IllegalArgumentException("clip " + ids.get(c) + " has no window");
            }
        }
        if ((long) windowStart[ids.size()] * dim != features.length) {
            throw new IllegalArgumentException(windowStart[ids.size()] + " windows of " + dim + " need "
                    + (long) windowStart[ids.size()] * dim + " values, got " + features.length);
        }
        if (labels.length != ids.size()) {
            throw new IllegalArgumentException(ids.size() + " clips but " + labels.length + " label rows");
        }
        for (boolean[] row : labels) {
            if (row.length != tags.size()) {
                throw new IllegalArgumentException("a label row has " + row.length + " values for " + tags.size() + " tags");
            }
        }
        this.ids = List.copyOf(ids);
        this.tags = List.copyOf(tags);
        this.dim = dim;
        this.features = features;
        this.windowStart = windowStart;
        this.labels = labels;
    }

    public List<String> ids() {
        return ids;
    }

    public List<String> tags() {
        return tags;
    }

    public int dim() {
        return dim;
    }

    public int clips() {
        return ids.size();
    }

    public int windows() {
        return windowStart[ids.size()];
    }

    /** The row-major [windows, dim] matrix (shared, do not change). */
    public float[] matrix() {
        return features;
    }

    /** First window row of clip {@code c}. */
    public int firstWindow(int c) {
        return windowStart[c];
    }

    /** Number of windows of clip {@code c}. */
    public int windowCount(int c) {
        return windowStart[c + 1] - windowStart[c];
    }

    /** The labels [clips][tags] (shared, do not change). */
    public boolean[][] labels() {
        return labels;
    }

    /** The mean of clip {@code c}'s window features: its embedding. */
    public float[] meanFeature(int c) {
        double[] sum = new double[dim];
        for (int w = windowStart[c]; w < windowStart[c + 1]; w++) {
            for (int k = 0; k < dim; k++) {
                sum[k] += features[w * dim + k];
            }
        }
        float[] mean = new float[dim];
        int n = windowCount(c);
        for (int k = 0; k < dim; k++) {
            mean[k] = (float) (sum[k] / n);
        }
        return mean;
    }

    /** The clips at {@code indices} (in that order), their windows copied. */
    public FeatureSet subset(int[] indices) {
        List<String> subIds = new ArrayList<>(indices.length);
        boolean[][] subLabels = new boolean[indices.length][];
        int[] starts = new int[indices.length + 1];
        for (int k = 0; k < indices.length; k++) {
            starts[k + 1] = starts[k] + windowCount(indices[k]);
        }
        float[] sub = new float[starts[indices.length] * dim];
        for (int k = 0; k < indices.length; k++) {
            int c = indices[k];
            subIds.add(ids.get(c));
            subLabels[k] = labels[c];
            System.arraycopy(features, windowStart[c] * dim, sub, starts[k] * dim, windowCount(c) * dim);
        }
        return new FeatureSet(subIds, tags, dim, sub, starts, subLabels);
    }
}

package org.clmr.eval.probe;

import org.clmr.data.random.Rng;
import org.clmr.eval.features.FeatureSet;

import java.util.ArrayList;
import java.util.List;

/** A linearly separable multi-label problem for tests: tag t is on where the clip's centre lies on the positive side of a random plane. */
final class SyntheticFeatures {
    private SyntheticFeatures() {
    }

    static FeatureSet make(int clips, int dim, int tags, int windowsPerClip, long planeSeed, long sampleSeed) {
        Rng planes = new Rng(planeSeed);
        double[][] w = new double[tags][dim];
        double[] bias = new double[tags];
        for (int t = 0; t < tags; t++) {
            for (int k = 0; k < dim; k++) {
                w[t][k] = planes.nextGaussian();
            }
            bias[t] = 0.8 * planes.nextGaussian();
        }
        Rng rng = new Rng(sampleSeed);
        float[] features = new float[clips * windowsPerClip * dim];
        int[] starts = new int[clips + 1];
        boolean[][] labels = new boolean[clips][tags];
        List<String> ids = new ArrayList<>();
        for (int c = 0; c < clips; c++) {
            double[] centre = new double[dim];
            for (int k = 0; k < dim; k++) {
                centre[k] = rng.nextGaussian();
            }
            for (int t = 0; t < tags; t++) {
                double s = bias[t];
                for (int k = 0; k < dim; k++) {
                    s += w[t][k] * centre[k];
                }
                labels[c][t] = s > 0;
            }
            for (int win = 0; win < windowsPerClip; win++) {
                for (int k = 0; k < dim; k++) {
                    features[(c * windowsPerClip + win) * dim + k] = (float) (centre[k] + 0.1 * rng.nextGaussian());
                }
            }
            starts[c + 1] = starts[c] + windowsPerClip;
            ids.add("clip" + c);
        }
        List<String> tagNames = new ArrayList<>();
        for (int t = 0; t < tags; t++) {
            tagNames.add("tag" + t);
        }
        return new FeatureSet(ids, tagNames, dim, features, starts, labels);
    }

    /** Column k scaled by 2^scale[k] (exact in float) and constant columns (value 3.25) inserted at {@code constantAt}. */
    static FeatureSet rescaled(FeatureSet s, int[] scale, List<Integer> constantAt) {
        int dim = s.dim() + constantAt.size();
        float[] x = new float[s.windows() * dim];
        for (int r = 0; r < s.windows(); r++) {
            int k = 0;
            for (int j = 0; j < dim; j++) {
                x[r * dim + j] = constantAt.contains(j) ? 3.25f : Math.scalb(s.matrix()[r * s.dim() + k], scale[k++]);
            }
        }
        int[] starts = new int[s.clips() + 1];
        for (int c = 0; c < s.clips(); c++) {
            starts[c + 1] = starts[c] + s.windowCount(c);
        }
        return new FeatureSet(s.ids(), s.tags(), dim, x, starts, s.labels());
    }
}

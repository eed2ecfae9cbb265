package org.clmr.eval.probe;

import org.clmr.eval.features.FeatureSet;

/** Lets tests in other packages build the synthetic problem of {@link SyntheticFeatures}. */
public final class SyntheticFeaturesAccess {
    private SyntheticFeaturesAccess() {
    }

    public static FeatureSet make(int clips, int dim, int tags, int windowsPerClip, long planeSeed, long sampleSeed) {
        return SyntheticFeatures.make(clips, dim, tags, windowsPerClip, planeSeed, sampleSeed);
    }

    /** See {@link SyntheticFeatures#rescaled}. */
    public static FeatureSet rescaled(FeatureSet s, int[] scale, java.util.List<Integer> constantAt) {
        return SyntheticFeatures.rescaled(s, scale, constantAt);
    }
}

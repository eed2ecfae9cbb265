package org.clmr.eval.metrics;

import java.util.ArrayList;
import java.util.List;

/**
 * Tag-wise and clip-wise ROC-AUC and PR-AUC (average precision) of a multi-label prediction.
 * Tag-wise: per tag over clips, then the mean over tags. Clip-wise: per clip over tags, then the mean
 * over clips. An undefined value (ROC-AUC of one class only, AP without a positive) is NaN in the
 * per-tag/per-clip arrays, left out of the mean, and listed by the {@code excluded...} methods.
 * Immutable by convention: the arrays must not be changed.
 *
 * @param tags         tag names, the columns
 * @param clipIds      clip ids, the rows
 * @param tagPositives number of positive clips per tag
 * @param tagRocAuc    ROC-AUC per tag (NaN where undefined)
 * @param tagPrAuc     average precision per tag (NaN where undefined)
 * @param clipRocAuc   ROC-AUC per clip (NaN where undefined)
 * @param clipPrAuc    average precision per clip (NaN where undefined)
 */
public record TaggingMetrics(List<String> tags, List<String> clipIds, int[] tagPositives,
                             double[] tagRocAuc, double[] tagPrAuc, double[] clipRocAuc, double[] clipPrAuc) {

    /**
     * Computes every metric.
     *
     * @param labels  [clips][tags], true where the clip has the tag
     * @param scores  [clips][tags], higher means more likely
     * @param tags    the column names
     * @param clipIds the row names
     */
    public static TaggingMetrics compute(boolean[][] labels, double[][] scores, List<String> tags, List<String> clipIds) {
        int clips = labels.length;
        int t = tags.size();
        if (scores.length != clips || clipIds.size() != clips) {
            throw new IllegalArgumentException("labels, scores and ids differ in clip count: "
                    + clips + ", " + scores.length + ", " + clipIds.size());
        }
        for (int i = 0; i < clips; i++) {
            if (labels[i].length != t || scores[i].length != t) {
                throw new IllegalArgumentException("clip " + clipIds.get(i) + " has " + labels[i].length + " labels and "
                        + scores[i].length + " scores; expected " + t + " tags");
            }
        }
        int[] positives = new int[t];
        double[] tagRoc = new double[t];
        double[] tagAp = new double[t];
        boolean[] column = new boolean[clips];
        double[] columnScores = new double[clips];
        for (int j = 0; j < t; j++) {
            for (int i = 0; i < clips; i++) {
                column[i] = labels[i][j];
                columnScores[i] = scores[i][j];
                positives[j] += labels[i][j] ? 1 : 0;
            }
            tagRoc[j] = BinaryMetrics.rocAuc(column, columnScores);
            tagAp[j] = BinaryMetrics.averagePrecision(column, columnScores);
        }
        double[] clipRoc = new double[clips];
        double[] clipAp = new double[clips];
        for (int i = 0; i < clips; i++) {
            clipRoc[i] = BinaryMetrics.rocAuc(labels[i], scores[i]);
            clipAp[i] = BinaryMetrics.averagePrecision(labels[i], scores[i]);
        }
        return new TaggingMetrics(List.copyOf(tags), List.copyOf(clipIds), positives, tagRoc, tagAp, clipRoc, clipAp);
    }

    /** Mean tag-wise ROC-AUC over the tags where it is defined; NaN if none is. */
    public double tagRocAucMean() {
        return meanDefined(tagRocAuc);
    }

    /** Mean tag-wise average precision over the tags where it is defined; NaN if none is. */
    public double tagPrAucMean() {
        return meanDefined(tagPrAuc);
    }

    /** Mean clip-wise ROC-AUC over the clips where it is defined; NaN if none is. */
    public double clipRocAucMean() {
        return meanDefined(clipRocAuc);
    }

    /** Mean clip-wise average precision over the clips where it is defined; NaN if none is. */
    public double clipPrAucMean() {
        return meanDefined(clipPrAuc);
    }

    /** Tags whose ROC-AUC is undefined (all or none of the clips carry them). */
    public List<String> excludedTagsRoc() {
        return undefined(tagRocAuc, tags);
    }

    /** Tags whose average precision is undefined (no clip carries them). */
    public List<String> excludedTagsPr() {
        return undefined(tagPrAuc, tags);
    }

    /** Clips whose ROC-AUC is undefined (all or none of the tags). */
    public List<String> excludedClipsRoc() {
        return undefined(clipRocAuc, clipIds);
    }

    /** Clips whose average precision is undefined (no tag). */
    public List<String> excludedClipsPr() {
        return undefined(clipPrAuc, clipIds);
    }

    /** The mean of the non-NaN values, NaN if there are none. */
    public static double meanDefined(double[] values) {
        double sum = 0;
        int n = 0;
        for (double v : values) {
            if (!Double.isNaN(v)) {
                sum += v;
                n++;
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    private static List<String> undefined(double[] values, List<String> names) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < values.length; i++) {
            if (Double.isNaN(values[i])) {
                out.add(names.get(i));
            }
        }
        return List.copyOf(out);
    }
}

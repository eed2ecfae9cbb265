package org.clmr.eval.probe;

import java.util.List;
import java.util.Locale;

/**
 * The validation number that stops a head's training early and picks the weight decay of a grid: the
 * mean over tags of ROC-AUC or of average precision on the validation clips (windows averaged).
 */
public enum StopMetric {
    /** Tag-wise ROC-AUC: the headline metric, so the probe is tuned for what is reported. */
    TAG_ROC_AUC("tag-roc-auc", "tag-wise ROC-AUC"),
    /** Tag-wise PR-AUC: the paper protocol's early-stopping criterion. */
    TAG_PR_AUC("tag-pr-auc", "tag-wise PR-AUC");

    private final String key;
    private final String description;

    StopMetric(String key, String description) {
        this.key = key;
        this.description = description;
    }

    /** The configuration spellings, in declaration order. */
    public static List<String> keys() {
        return List.of(TAG_ROC_AUC.key, TAG_PR_AUC.key);
    }

    /** Parses {@code tag-roc-auc} or {@code tag-pr-auc}. */
    public static StopMetric parse(String s) {
        String k = s.trim().toLowerCase(Locale.ROOT);
        for (StopMetric m : values()) {
            if (m.key.equals(k)) {
                return m;
            }
        }
        throw new IllegalArgumentException("early-stopping metric " + s + " is not one of " + keys());
    }

    /** Its value in an epoch record. */
    public double of(EpochRecord r) {
        return this == TAG_ROC_AUC ? r.validTagRocAuc() : r.validTagPrAuc();
    }

    /** The configuration spelling. */
    public String key() {
        return key;
    }

    /** For reports, e.g. {@code tag-wise ROC-AUC}. */
    public String description() {
        return description;
    }
}

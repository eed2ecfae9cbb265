package org.clmr.eval.report;

import org.clmr.eval.features.FeatureStats;
import org.clmr.eval.probe.ProbeEvaluation;
import org.clmr.eval.probe.ProbeSpec;

import java.util.Locale;
import java.util.stream.Collectors;

/** Short console phrases about an evaluation, for {@code clmr evaluate} and {@code clmr demo}. Stateless. */
public final class SummaryLines {
    private SummaryLines() {
    }

    /** E.g. {@code 22/64}: constant (dead) dimensions of the training features out of all. */
    public static String deadDims(FeatureStats stats) {
        return stats.constantDims().size() + "/" + stats.dim();
    }

    /** E.g. {@code features: 64 dimensions, 22 constant on the training split (34%), the others' std 0.031 to 0.103}. */
    public static String features(FeatureStats stats) {
        double[] range = stats.stdRange();
        return String.format(Locale.ROOT, "features: %d dimensions, %d constant on the training split (%.0f%%)%s", stats.dim(),
                stats.constantDims().size(), 100 * stats.constantShare(),
                Double.isNaN(range[0]) ? "" : String.format(Locale.ROOT, ", the others' standard deviation %.3g to %.3g", range[0], range[1]));
    }

    /** The weight decay each run chose, e.g. {@code 1e-4} or {@code 1e-4, 1e-3, 1e-4} over seeds. */
    public static String chosenWeightDecays(ProbeEvaluation.Result result) {
        if (result.fittedOnce()) {
            return ProbeSpec.plain(result.runs().get(0).weightDecay());
        }
        return result.runs().stream().map(r -> ProbeSpec.plain(r.weightDecay())).collect(Collectors.joining(", "));
    }
}

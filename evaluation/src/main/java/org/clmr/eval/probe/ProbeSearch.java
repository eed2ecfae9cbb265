package org.clmr.eval.probe;

import org.clmr.eval.features.FeatureSet;
import org.clmr.eval.features.FeatureStats;
import org.clmr.eval.metrics.TaggingMetrics;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;

/**
 * One seed's probe: the scaler taken from the training windows (when the spec standardises), one head per
 * weight decay of the grid (L-BFGS along the regularisation path from the strongest decay down, or Adam with
 * early stopping from a fresh seeded start each), each scored on the validation clips by the spec's metric,
 * and the best kept; ties go to the larger weight decay (the simpler head). Deterministic for a seed.
 * Caller's thread (L-BFGS solves the tags on the common fork-join pool).
 */
public final class ProbeSearch {
    private ProbeSearch() {
    }

    /**
     * One grid point's head, scored on the validation clips.
     *
     * @param weightDecay     its weight decay
     * @param validTagRocAuc  validation tag-wise ROC-AUC of the head
     * @param validTagPrAuc   validation tag-wise PR-AUC of the head
     * @param bestEpoch       Adam: the kept epoch (1-based); L-BFGS: 0
     * @param epochs          Adam: epochs run; L-BFGS: 0
     * @param iterations      L-BFGS: the most iterations a tag took; Adam: 0
     * @param unconvergedTags L-BFGS: tags stopped by the iteration limit; Adam: 0
     */
    public record Candidate(double weightDecay, double validTagRocAuc, double validTagPrAuc, int bestEpoch, int epochs, int iterations,
                            int unconvergedTags) {
        /** Its value of {@code metric}. */
        public double score(StopMetric metric) {
            return metric == StopMetric.TAG_ROC_AUC ? validTagRocAuc : validTagPrAuc;
        }
    }

    /**
     * The kept head and how it was chosen.
     *
     * @param head       the chosen head (behind its scaler)
     * @param chosen     index of its candidate
     * @param candidates every grid point, in ascending weight decay
     * @param curve      the chosen Adam head's validation curve; empty for L-BFGS
     * @param oneClass   tags that every training clip carries or none does (L-BFGS fits their base rate)
     */
    public record Outcome(ProbeHead head, int chosen, List<Candidate> candidates, List<EpochRecord> curve, List<String> oneClass) {
        /** The chosen weight decay. */
        public double weightDecay() {
            return candidates.get(chosen).weightDecay();
        }

        /** The chosen Adam head's epoch (1-based); 0 for L-BFGS. */
        public int bestEpoch() {
            return candidates.get(chosen).bestEpoch();
        }
    }

    /**
     * Runs the grid.
     *
     * @param onEpoch     each Adam epoch (progress); may be a no-op
     * @param onCandidate each grid point when scored; may be a no-op
     */
    public static Outcome run(FeatureSet train, FeatureSet valid, ProbeSpec spec, long seed, Consumer<EpochRecord> onEpoch,
                              Consumer<Candidate> onCandidate) {
        if (!train.tags().equals(valid.tags()) || train.dim() != valid.dim()) {
            throw new IllegalArgumentException("training and validation features differ in tags or width");
        }
        FeatureScaler scaler = spec.standardise() ? FeatureScaler.standardising(FeatureStats.of(train, "training"))
                : FeatureScaler.identity(train.dim());
        int n = spec.weightDecays().size();
        Candidate[] candidates = new Candidate[n];
        ProbeHead[] heads = new ProbeHead[n];
        List<List<EpochRecord>> curves = new ArrayList<>();
        if (spec.usesLbfgs()) {
            LinearProbeSolver solver = new LinearProbeSolver(train, scaler);
            for (int i = n - 1; i >= 0; i--) {
                LinearProbeSolver.Fit fit = solver.fit(spec.weightDecays().get(i), spec.maxIterations());
                heads[i] = fit.head();
                TaggingMetrics m = validation(fit.head(), valid);
                candidates[i] = new Candidate(fit.weightDecay(), m.tagRocAucMean(), m.tagPrAucMean(), 0, 0, fit.maxIterations(), fit.unconverged());
                onCandidate.accept(candidates[i]);
            }
            curves.addAll(Collections.nCopies(n, List.of()));
        } else {
            for (int i = 0; i < n; i++) {
                double wd = spec.weightDecays().get(i);
                ProbeTrainer.Trained t = ProbeTrainer.train(train, valid, spec, scaler, wd, seed, onEpoch);
                heads[i] = t.head();
                EpochRecord best = t.curve().get(t.bestEpoch() - 1);
                candidates[i] = new Candidate(wd, best.validTagRocAuc(), best.validTagPrAuc(), t.bestEpoch(), t.curve().size(), 0, 0);
                curves.add(t.curve());
                onCandidate.accept(candidates[i]);
            }
        }
        int chosen = choose(candidates, spec.stopOn());
        return new Outcome(heads[chosen], chosen, List.of(candidates), curves.get(chosen), oneClassTags(train));
    }

    /** Tags that every training clip carries, or none does: no probe can learn them. */
    static List<String> oneClassTags(FeatureSet train) {
        List<String> out = new ArrayList<>();
        for (int t = 0; t < train.tags().size(); t++) {
            int positives = 0;
            for (boolean[] row : train.labels()) {
                positives += row[t] ? 1 : 0;
            }
            if (positives == 0 || positives == train.clips()) {
                out.add(train.tags().get(t));
            }
        }
        return out;
    }

    /** The highest score; on a tie the later (larger weight decay). */
    private static int choose(Candidate[] candidates, StopMetric metric) {
        int best = -1;
        for (int i = 0; i < candidates.length; i++) {
            double s = candidates[i].score(metric);
            if (Double.isNaN(s)) {
                throw ProbeTrainer.undefinedOnValidation(metric);
            }
            if (best < 0 || s >= candidates[best].score(metric)) {
                best = i;
            }
        }
        return best;
    }

    private static TaggingMetrics validation(ProbeHead head, FeatureSet valid) {
        return TaggingMetrics.compute(valid.labels(), ProbeTrainer.clipScores(head, valid), valid.tags(), valid.ids());
    }
}

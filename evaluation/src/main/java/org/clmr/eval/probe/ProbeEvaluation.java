package org.clmr.eval.probe;

import org.clmr.eval.features.FeatureSet;
import org.clmr.eval.features.FeatureStats;
import org.clmr.eval.metrics.TaggingMetrics;

import java.util.ArrayList;
import java.util.List;

/**
 * Linear evaluation over several seeds: for each seed a class-balanced label subset of the training
 * clips (when the fraction is below 1), a head chosen on the validation clips ({@link ProbeSearch}), and
 * its tag-wise and clip-wise metrics on the test clips. A head fitted by L-BFGS does not depend on the seed,
 * so at label fraction 1 it is fitted once and every seed's run holds it. Runs on the caller's thread
 * (L-BFGS solves the tags on the common fork-join pool).
 */
public final class ProbeEvaluation {
    private ProbeEvaluation() {
    }

    /** Progress of an evaluation: which seed, and each epoch. */
    public interface Listener {
        /** A head with {@code seed} (the {@code index}-th of {@code total}) starts on {@code trainClips} clips. */
        void onRunStart(int index, int total, long seed, int trainClips);

        /** An epoch of the current head ended. */
        void onEpoch(EpochRecord record);

        /** A grid point's head of the current seed was scored on the validation clips. */
        default void onCandidate(ProbeSearch.Candidate candidate) {
        }

        /** The current seed's head was chosen and tested. */
        default void onRunEnd(Run run) {
        }
    }

    /**
     * One seed's head and its test metrics.
     *
     * @param seed         the head's seed
     * @param trainClips   training clips it saw (after the label fraction)
     * @param trainWindows training windows (its examples)
     * @param bestEpoch    the epoch whose head was kept (Adam); 0 for L-BFGS
     * @param curve        the kept head's validation curve (Adam); empty for L-BFGS
     * @param test         metrics on the test clips
     * @param testScores   the kept head's test scores [clips][tags], windows averaged
     * @param head         the kept head, behind its scaler
     * @param weightDecay  the kept head's weight decay
     * @param candidates   every grid point, scored on the validation clips
     * @param oneClassTags tags with one class only among its training windows
     */
    public record Run(long seed, int trainClips, int trainWindows, int bestEpoch, List<EpochRecord> curve,
                      TaggingMetrics test, double[][] testScores, ProbeHead head, double weightDecay,
                      List<ProbeSearch.Candidate> candidates, List<String> oneClassTags) {
        /**
         * {@code -1} or {@code 1} when a grid of several values chose its smallest or largest weight decay (the best
         * may lie beyond the grid), else 0.
         */
        public int gridEdge() {
            if (candidates.size() < 2) {
                return 0;
            }
            return weightDecay == candidates.get(0).weightDecay() ? -1 : weightDecay == candidates.get(candidates.size() - 1).weightDecay() ? 1 : 0;
        }
    }

    /**
     * Mean and sample standard deviation (n - 1; 0 for one run) of one number over runs.
     *
     * @param mean mean over runs
     * @param std  sample standard deviation
     */
    public record Stat(double mean, double std) {
        /** Of the given values. */
        public static Stat of(double[] values) {
            double mean = 0;
            for (double v : values) {
                mean += v;
            }
            mean /= values.length;
            double ss = 0;
            for (double v : values) {
                ss += (v - mean) * (v - mean);
            }
            return new Stat(mean, values.length > 1 ? Math.sqrt(ss / (values.length - 1)) : 0.0);
        }
    }

    /**
     * Every seed's run.
     *
     * @param spec          the head and its training
     * @param labelFraction fraction of labelled training clips, in (0, 1]
     * @param runs          one per seed
     * @param trainFeatures statistics of every training window (constant dimensions, scales)
     * @param fittedOnce    whether one seed-independent head serves every run (L-BFGS at label fraction 1)
     */
    public record Result(ProbeSpec spec, double labelFraction, List<Run> runs, FeatureStats trainFeatures, boolean fittedOnce) {
        public Stat tagRocAuc() {
            return Stat.of(runs.stream().mapToDouble(r -> r.test().tagRocAucMean()).toArray());
        }

        public Stat tagPrAuc() {
            return Stat.of(runs.stream().mapToDouble(r -> r.test().tagPrAucMean()).toArray());
        }

        public Stat clipRocAuc() {
            return Stat.of(runs.stream().mapToDouble(r -> r.test().clipRocAucMean()).toArray());
        }

        public Stat clipPrAuc() {
            return Stat.of(runs.stream().mapToDouble(r -> r.test().clipPrAucMean()).toArray());
        }

        /** Per tag, its ROC-AUC over runs (NaN where undefined on the test clips). */
        public List<Stat> perTagRocAuc() {
            return perTag(true);
        }

        /** Per tag, its average precision over runs (NaN where undefined on the test clips). */
        public List<Stat> perTagPrAuc() {
            return perTag(false);
        }

        private List<Stat> perTag(boolean roc) {
            int tags = runs.get(0).test().tags().size();
            List<Stat> out = new ArrayList<>(tags);
            for (int t = 0; t < tags; t++) {
                final int tag = t;
                out.add(Stat.of(runs.stream().mapToDouble(r -> (roc ? r.test().tagRocAuc() : r.test().tagPrAuc())[tag]).toArray()));
            }
            return out;
        }
    }

    /**
     * Trains and tests {@code seeds} heads with seeds {@code firstSeed, firstSeed + 1, ...}.
     */
    public static Result run(FeatureSet train, FeatureSet valid, FeatureSet test, ProbeSpec spec, double labelFraction,
                             int seeds, long firstSeed, Listener listener) {
        if (!train.tags().equals(test.tags()) || train.dim() != test.dim()) {
            throw new IllegalArgumentException("training and test features differ in tags or width");
        }
        FeatureStats trainStats = FeatureStats.of(train, "training");
        FeatureStats.of(valid, "validation");
        FeatureStats.of(test, "test");
        boolean once = spec.usesLbfgs() && labelFraction == 1.0;
        List<Run> runs = new ArrayList<>();
        for (int k = 0; k < seeds; k++) {
            long seed = firstSeed + k;
            if (once && k > 0) {
                Run first = runs.get(0);
                runs.add(new Run(seed, first.trainClips(), first.trainWindows(), first.bestEpoch(), first.curve(), first.test(),
                        first.testScores(), first.head(), first.weightDecay(), first.candidates(), first.oneClassTags()));
                continue;
            }
            FeatureSet used = labelFraction < 1.0 ? train.subset(LabelSubset.classBalanced(train.labels(), labelFraction, seed)) : train;
            listener.onRunStart(k, once ? 1 : seeds, seed, used.clips());
            ProbeSearch.Outcome chosen = ProbeSearch.run(used, valid, spec, seed, listener::onEpoch, listener::onCandidate);
            double[][] scores = ProbeTrainer.clipScores(chosen.head(), test);
            TaggingMetrics metrics = TaggingMetrics.compute(test.labels(), scores, test.tags(), test.ids());
            Run run = new Run(seed, used.clips(), used.windows(), chosen.bestEpoch(), chosen.curve(), metrics, scores, chosen.head(),
                    chosen.weightDecay(), chosen.candidates(), chosen.oneClass());
            runs.add(run);
            listener.onRunEnd(run);
        }
        return new Result(spec, labelFraction, List.copyOf(runs), trainStats, once && seeds > 1);
    }
}

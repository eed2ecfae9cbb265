package org.clmr.eval.probe;

import org.clmr.data.random.Rng;
import org.clmr.eval.features.FeatureSet;
import org.clmr.eval.features.FeatureStats;
import org.clmr.eval.metrics.TaggingMetrics;
import org.clmr.protocol.UserError;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Trains one probe head with Adam on frozen features: every window of a training clip is an example carrying
 * the clip's labels; minibatches in a seeded order per epoch; after each epoch the spec's metric on the
 * validation clips (sigmoid outputs averaged over each clip's windows); early stopping when it has not
 * improved for {@code patience} epochs; the best epoch's head is returned. Deterministic for a seed
 * (one thread, fixed order). Runs on the caller's thread.
 */
public final class ProbeTrainer {
    private static final int PREDICT_CHUNK = 1024;

    private ProbeTrainer() {
    }

    /**
     * A trained head and its history.
     *
     * @param head      the best epoch's head
     * @param bestEpoch its epoch (1-based)
     * @param curve     one record per epoch run
     */
    public record Trained(ProbeHead head, int bestEpoch, List<EpochRecord> curve) {
    }

    /**
     * Trains a head with the spec's one weight decay, standardised on {@code train} if the spec says so.
     *
     * @param onEpoch called after each epoch (progress); may be a no-op
     * @throws IllegalStateException when the spec has a grid of weight decays (see {@link ProbeSearch})
     */
    public static Trained train(FeatureSet train, FeatureSet valid, ProbeSpec spec, long seed, Consumer<EpochRecord> onEpoch) {
        FeatureScaler scaler = spec.standardise() ? FeatureScaler.standardising(FeatureStats.of(train, "training"))
                : FeatureScaler.identity(train.dim());
        return train(train, valid, spec, scaler, spec.weightDecay(), seed, onEpoch);
    }

    /**
     * Trains a head behind {@code scaler} with {@code weightDecay}.
     *
     * @param onEpoch called after each epoch (progress); may be a no-op
     */
    public static Trained train(FeatureSet train, FeatureSet valid, ProbeSpec spec, FeatureScaler scaler, double weightDecay, long seed,
                                Consumer<EpochRecord> onEpoch) {
        if (!train.tags().equals(valid.tags()) || train.dim() != valid.dim()) {
            throw new IllegalArgumentException("training and validation features differ in tags or width");
        }
        int tags = train.tags().size();
        ProbeHead head = ProbeHead.initialise(spec.kind(), train.dim(), spec.hidden(), tags, scaler, Rng.of(seed, 0x4eadL));
        Adam adam = Adam.forHead(head, spec.learningRate(), weightDecay);
        int windows = train.windows();
        boolean[][] windowLabels = new boolean[windows][];
        for (int c = 0; c < train.clips(); c++) {
            for (int w = 0; w < train.windowCount(c); w++) {
                windowLabels[train.firstWindow(c) + w] = train.labels()[c];
            }
        }
        List<EpochRecord> curve = new ArrayList<>();
        ProbeHead best = head.copy();
        double bestScore = Double.NEGATIVE_INFINITY;
        int bestEpoch = 0;
        int stale = 0;
        for (int epoch = 1; epoch <= spec.maxEpochs() && stale < spec.patience(); epoch++) {
            int[] order = permutation(windows, Rng.of(seed, epoch));
            double lossSum = 0;
            for (int from = 0; from < windows; from += spec.batchSize()) {
                int[] rows = java.util.Arrays.copyOfRange(order, from, Math.min(windows, from + spec.batchSize()));
                boolean[][] targets = new boolean[rows.length][];
                for (int b = 0; b < rows.length; b++) {
                    targets[b] = windowLabels[rows[b]];
                }
                lossSum += head.lossAndGradient(train.matrix(), rows, targets) * rows.length;
                adam.step(head);
            }
            TaggingMetrics m = TaggingMetrics.compute(valid.labels(), clipScores(head, valid), valid.tags(), valid.ids());
            EpochRecord record = new EpochRecord(epoch, lossSum / windows, m.tagRocAucMean(), m.tagPrAucMean());
            double score = spec.stopOn().of(record);
            if (Double.isNaN(score)) {
                throw undefinedOnValidation(spec.stopOn());
            }
            curve.add(record);
            onEpoch.accept(record);
            if (score > bestScore) {
                bestScore = score;
                bestEpoch = epoch;
                best = head.copy();
                stale = 0;
            } else {
                stale++;
            }
        }
        return new Trained(best, bestEpoch, List.copyOf(curve));
    }

    /** The failure when the validation clips cannot tell heads apart: no tag has both classes (or a positive, for PR-AUC). */
    static UserError undefinedOnValidation(StopMetric metric) {
        String why = metric == StopMetric.TAG_PR_AUC ? "no tag has a positive validation clip"
                : "no tag has both a positive and a negative validation clip";
        return new UserError("the validation split cannot rank probes: " + why + ", so its " + metric.description()
                + " is undefined; give a dataset whose validation clips carry (and lack) tags");
    }

    /**
     * Per clip, the head's sigmoid outputs averaged over the clip's windows.
     *
     * @return [clips][tags]
     */
    public static double[][] clipScores(ProbeHead head, FeatureSet set) {
        int tags = head.outputs();
        double[][] scores = new double[set.clips()][tags];
        int clip = 0;
        for (int from = 0; from < set.windows(); from += PREDICT_CHUNK) {
            int to = Math.min(set.windows(), from + PREDICT_CHUNK);
            int[] rows = new int[to - from];
            for (int k = 0; k < rows.length; k++) {
                rows[k] = from + k;
            }
            double[] p = head.predict(set.matrix(), rows);
            for (int r = from; r < to; r++) {
                while (r >= set.firstWindow(clip) + set.windowCount(clip)) {
                    clip++;
                }
                for (int t = 0; t < tags; t++) {
                    scores[clip][t] += p[(r - from) * tags + t];
                }
            }
        }
        for (int c = 0; c < set.clips(); c++) {
            for (int t = 0; t < tags; t++) {
                scores[c][t] /= set.windowCount(c);
            }
        }
        return scores;
    }

    private static int[] permutation(int n, Rng rng) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }
}

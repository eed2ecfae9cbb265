package org.clmr.eval.probe;

import org.clmr.data.random.Rng;
import org.clmr.eval.features.FeatureSet;
import org.clmr.eval.metrics.TaggingMetrics;
import org.clmr.protocol.UserError;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Trains one probe head on frozen features: every window of a training clip is an example carrying the
 * clip's labels; minibatches in a seeded order per epoch; Adam; after each epoch the tag-wise PR-AUC on
 * the validation clips (sigmoid outputs averaged over each clip's windows); early stopping when it has not
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
     * Trains a head.
     *
     * @param onEpoch called after each epoch (progress); may be a no-op
     */
    public static Trained train(FeatureSet train, FeatureSet valid, ProbeSpec spec, long seed, Consumer<EpochRecord> onEpoch) {
        if (!train.tags().equals(valid.tags()) || train.dim() != valid.dim()) {
            throw new IllegalArgumentException("training and validation features differ in tags or width");
        }
        int tags = train.tags().size();
        ProbeHead head = ProbeHead.initialise(spec.kind(), train.dim(), spec.hidden(), tags, Rng.of(seed, 0x4eadL));
        Adam adam = Adam.forHead(head, spec.learningRate(), spec.weightDecay());
        int windows = train.windows();
        boolean[][] windowLabels = new boolean[windows][];
        for (int c = 0; c < train.clips(); c++) {
            for (int w = 0; w < train.windowCount(c); w++) {
                windowLabels[train.firstWindow(c) + w] = train.labels()[c];
            }
        }
        List<EpochRecord> curve = new ArrayList<>();
        ProbeHead best = head.copy();
        double bestPr = Double.NEGATIVE_INFINITY;
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
            if (Double.isNaN(record.validTagPrAuc())) {
                throw new UserError("the validation split has no positive label for any tag, so PR-AUC is undefined"
                        + " and early stopping cannot work; give a dataset whose validation clips carry tags");
            }
            curve.add(record);
            onEpoch.accept(record);
            if (record.validTagPrAuc() > bestPr) {
                bestPr = record.validTagPrAuc();
                bestEpoch = epoch;
                best = head.copy();
                stale = 0;
            } else {
                stale++;
            }
        }
        return new Trained(best, bestEpoch, List.copyOf(curve));
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

package org.clmr.eval.probe;

import org.clmr.eval.features.FeatureSet;
import org.clmr.eval.metrics.TaggingMetrics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(60)
class ProbeTrainerTest {
    private static final FeatureSet TRAIN = SyntheticFeatures.make(300, 16, 5, 2, 1, 10);
    private static final FeatureSet VALID = SyntheticFeatures.make(80, 16, 5, 2, 1, 11);
    private static final FeatureSet TEST = SyntheticFeatures.make(150, 16, 5, 3, 1, 12);
    private static final ProbeSpec SPEC = ProbeSpec.paperProtocol(ProbeHead.Kind.LINEAR, 32, 1e-2, 1e-6, 32, 80, 5);

    private static TaggingMetrics test(ProbeTrainer.Trained trained) {
        return TaggingMetrics.compute(TEST.labels(), ProbeTrainer.clipScores(trained.head(), TEST), TEST.tags(), TEST.ids());
    }

    @Test
    void shouldLearnALinearlySeparableMultiLabelProblemWithTheLinearHead() {
        ProbeTrainer.Trained trained = ProbeTrainer.train(TRAIN, VALID, SPEC, 3, r -> { });
        TaggingMetrics m = test(trained);
        assertTrue(m.tagRocAucMean() > 0.97, "tag ROC-AUC " + m.tagRocAucMean());
        assertTrue(m.tagPrAucMean() > 0.93, "tag PR-AUC " + m.tagPrAucMean());
        assertTrue(m.clipRocAucMean() > 0.9, "clip ROC-AUC " + m.clipRocAucMean());
        EpochRecord first = trained.curve().get(0);
        EpochRecord last = trained.curve().get(trained.curve().size() - 1);
        assertTrue(last.trainLoss() < first.trainLoss(), "loss " + first.trainLoss() + " -> " + last.trainLoss());
    }

    @Test
    void shouldLearnItWithTheMlpHead() {
        ProbeTrainer.Trained trained = ProbeTrainer.train(TRAIN, VALID, SPEC.withKind(ProbeHead.Kind.MLP), 3, r -> { });
        assertTrue(test(trained).tagRocAucMean() > 0.95, "tag ROC-AUC " + test(trained).tagRocAucMean());
    }

    @Test
    void shouldReproduceASeedBitForBitAndDifferAcrossSeeds() {
        ProbeSpec quick = ProbeSpec.paperProtocol(ProbeHead.Kind.MLP, 16, 1e-2, 1e-6, 32, 4, 5);
        ProbeTrainer.Trained a = ProbeTrainer.train(TRAIN, VALID, quick, 7, r -> { });
        ProbeTrainer.Trained b = ProbeTrainer.train(TRAIN, VALID, quick, 7, r -> { });
        ProbeTrainer.Trained c = ProbeTrainer.train(TRAIN, VALID, quick, 8, r -> { });
        assertEquals(a.curve(), b.curve());
        double[][] pa = a.head().parameterValues();
        double[][] pb = b.head().parameterValues();
        for (int p = 0; p < pa.length; p++) {
            assertArrayEquals(pa[p], pb[p], 0.0);
        }
        assertTrue(a.curve().get(0).trainLoss() != c.curve().get(0).trainLoss());
    }

    @Test
    void shouldStopAfterPatienceEpochsWithoutImprovementAndKeepTheBestEpoch() {
        ProbeSpec spec = ProbeSpec.paperProtocol(ProbeHead.Kind.LINEAR, 8, 0.5, 0.0, 8, 200, 3);
        ProbeTrainer.Trained trained = ProbeTrainer.train(TRAIN, VALID, spec, 1, r -> { });
        List<EpochRecord> curve = trained.curve();
        assertTrue(curve.size() < 200, "ran " + curve.size() + " epochs");
        assertEquals(curve.size() - 3, trained.bestEpoch(), "stops 3 epochs after the best");
        double best = curve.stream().mapToDouble(EpochRecord::validTagPrAuc).max().orElseThrow();
        assertEquals(best, curve.get(trained.bestEpoch() - 1).validTagPrAuc(), 0.0);
        TaggingMetrics kept = TaggingMetrics.compute(VALID.labels(), ProbeTrainer.clipScores(trained.head(), VALID), VALID.tags(), VALID.ids());
        assertEquals(best, kept.tagPrAucMean(), 0.0, "the returned head is the best epoch's");
    }

    @Test
    void shouldAverageOutputsOverAClipsWindows() {
        ProbeHead head = ProbeTrainer.train(TRAIN, VALID, ProbeSpec.paperProtocol(ProbeHead.Kind.LINEAR, 8, 1e-2, 0, 64, 1, 1), 1, r -> { }).head();
        double[][] scores = ProbeTrainer.clipScores(head, TEST);
        double[] p = head.predict(TEST.matrix(), new int[] {TEST.firstWindow(4), TEST.firstWindow(4) + 1, TEST.firstWindow(4) + 2});
        int tags = TEST.tags().size();
        for (int t = 0; t < tags; t++) {
            assertEquals((p[t] + p[tags + t] + p[2 * tags + t]) / 3, scores[4][t], 1e-15);
        }
    }
}

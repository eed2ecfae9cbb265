package org.clmr.eval.probe;

import org.clmr.eval.features.FeatureSet;
import org.clmr.eval.metrics.TaggingMetrics;
import org.clmr.protocol.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(60)
class LinearProbeSolverTest {
    private static final FeatureSet TRAIN = SyntheticFeatures.make(200, 8, 4, 2, 3, 20);
    private static final FeatureSet VALID = SyntheticFeatures.make(60, 8, 4, 2, 3, 21);
    private static final FeatureSet TEST = SyntheticFeatures.make(80, 8, 4, 2, 3, 22);
    private static final ProbeSpec FAIR = new ProbeSpec(ProbeHead.Kind.LINEAR, 16, true, List.of(1e-4, 1e-3, 1e-2),
            ProbeSpec.LinearSolver.LBFGS, 1000, 1e-3, 64, 100, 10, StopMetric.TAG_ROC_AUC);

    @Test
    void shouldGiveTheSameHeadWhateverTheColumnScalesAndConstantColumns() {
        int[] scale = {-40, -20, -7, 0, 3, 11, 20, 40};
        List<Integer> constantAt = List.of(0, 5, 9);
        ProbeSearch.Outcome plain = ProbeSearch.run(TRAIN, VALID, FAIR, 0, r -> { }, c -> { });
        ProbeSearch.Outcome scaled = ProbeSearch.run(SyntheticFeatures.rescaled(TRAIN, scale, constantAt), SyntheticFeatures.rescaled(VALID, scale, constantAt), FAIR, 0,
                r -> { }, c -> { });
        assertEquals(plain.weightDecay(), scaled.weightDecay(), 0.0);
        double[][] a = ProbeTrainer.clipScores(plain.head(), TEST);
        double[][] b = ProbeTrainer.clipScores(scaled.head(), SyntheticFeatures.rescaled(TEST, scale, constantAt));
        for (int c = 0; c < a.length; c++) {
            assertArrayEquals(a[c], b[c], 1e-12, "clip " + c);
        }
    }

    @Test
    void shouldFitATagWithoutTrainingPositivesAsItsBaseRateAndReportIt() {
        boolean[][] labels = new boolean[TRAIN.clips()][];
        for (int c = 0; c < labels.length; c++) {
            labels[c] = TRAIN.labels()[c].clone();
            labels[c][2] = false;
        }
        FeatureSet train = new FeatureSet(TRAIN.ids(), TRAIN.tags(), TRAIN.dim(), TRAIN.matrix(), starts(TRAIN), labels);
        ProbeEvaluation.Result r = ProbeEvaluation.run(train, VALID, TEST, FAIR, 1.0, 1, 0, new ProbeEvaluation.Listener() {
            @Override
            public void onRunStart(int index, int total, long seed, int trainClips) {
            }

            @Override
            public void onEpoch(EpochRecord record) {
            }
        });
        ProbeEvaluation.Run run = r.runs().get(0);
        assertEquals(List.of("tag2"), run.oneClassTags());
        double[][] w = run.head().parameterValues();
        for (int i = 0; i < TRAIN.dim(); i++) {
            assertEquals(0.0, w[0][i * 4 + 2], 0.0, "no weight for a tag nothing in training carries");
        }
        double p = 0.5 / (train.windows() + 1.0);
        assertEquals(Math.log(p / (1 - p)), w[1][2], 1e-12);
        assertEquals(0.5, run.test().tagRocAuc()[2], 0.0, "a constant score ranks nothing");
        assertTrue(run.test().tagRocAuc()[0] > 0.9, "the other tags are learned: " + run.test().tagRocAuc()[0]);
    }

    @Test
    void shouldGiveTheSameBitsOnOneThreadAsOnThePool() throws Exception {
        FeatureScaler scaler = FeatureScaler.standardising(org.clmr.eval.features.FeatureStats.of(TRAIN, "training"));
        double[][] pooled = new LinearProbeSolver(TRAIN, scaler).fit(1e-4, 1000).head().parameterValues();
        java.util.concurrent.ForkJoinPool one = new java.util.concurrent.ForkJoinPool(1);
        try {
            double[][] single = one.submit(() -> new LinearProbeSolver(TRAIN, scaler).fit(1e-4, 1000).head().parameterValues()).get();
            for (int p = 0; p < pooled.length; p++) {
                assertArrayEquals(pooled[p], single[p], 0.0);
            }
        } finally {
            one.shutdown();
        }
    }

    @Test
    void shouldCountTagsStoppedByTheIterationLimit() {
        LinearProbeSolver solver = new LinearProbeSolver(TRAIN, FeatureScaler.identity(TRAIN.dim()));
        LinearProbeSolver.Fit fit = solver.fit(1e-4, 2);
        assertEquals(4, fit.unconverged());
        assertEquals(2, fit.maxIterations());
        LinearProbeSolver.Fit more = solver.fit(1e-4, 1000);
        assertEquals(0, more.unconverged(), "continuing from the last fit converges");
    }

    @Test
    void shouldRefuseAValidationSplitThatCannotRankHeads() {
        boolean[][] none = new boolean[VALID.clips()][VALID.tags().size()];
        FeatureSet valid = new FeatureSet(VALID.ids(), VALID.tags(), VALID.dim(), VALID.matrix(), starts(VALID), none);
        UserError e = assertThrows(UserError.class, () -> ProbeSearch.run(TRAIN, valid, FAIR, 0, r -> { }, c -> { }));
        assertTrue(e.getMessage().contains("no tag has both a positive and a negative validation clip"), e.getMessage());
    }

    @Test
    void shouldScoreTheValidationSplitAsTheTrainerDoes() {
        ProbeSearch.Outcome o = ProbeSearch.run(TRAIN, VALID, FAIR, 0, r -> { }, c -> { });
        TaggingMetrics m = TaggingMetrics.compute(VALID.labels(), ProbeTrainer.clipScores(o.head(), VALID), VALID.tags(), VALID.ids());
        assertEquals(m.tagRocAucMean(), o.candidates().get(o.chosen()).validTagRocAuc(), 0.0);
        List<Double> scores = new ArrayList<>();
        o.candidates().forEach(c -> scores.add(c.validTagRocAuc()));
        assertEquals(scores.stream().mapToDouble(Double::doubleValue).max().orElseThrow(), m.tagRocAucMean(), 0.0, "the best is kept");
    }

    private static int[] starts(FeatureSet s) {
        int[] starts = new int[s.clips() + 1];
        for (int c = 0; c < s.clips(); c++) {
            starts[c + 1] = s.firstWindow(c) + s.windowCount(c);
        }
        return starts;
    }
}

package org.clmr.eval.probe;

import com.fasterxml.jackson.databind.JsonNode;
import org.clmr.eval.EvalSettings;
import org.clmr.protocol.config.ClmrConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code clmr evaluate}'s default linear probe against scikit-learn's LogisticRegression on standardised features
 * with the same weight-decay grid (fixture and reference numbers of src/test/scripts/make_fair_probe_fixture.py),
 * on a well-scaled feature set and on the same clips' badly scaled one (scales 1e-5 to 1e4, large offsets,
 * constant columns).
 */
@Timeout(120)
class ProbeAgainstScikitLearnTest {
    private static final double TOLERANCE = 0.01;

    private static final ProbeEvaluation.Listener QUIET = new ProbeEvaluation.Listener() {
        @Override
        public void onRunStart(int index, int total, long seed, int trainClips) {
        }

        @Override
        public void onEpoch(EpochRecord record) {
        }
    };

    private static ProbeEvaluation.Result evaluate(FairProbeFixture.Set set, EvalSettings s) {
        return ProbeEvaluation.run(set.train(), set.valid(), set.test(), s.probe(), s.labelFraction(), s.seeds(), s.seed(), QUIET);
    }

    @Test
    void shouldUseTheGridTheReferenceWasComputedWith() {
        EvalSettings defaults = EvalSettings.from(ClmrConfig.defaults());
        assertEquals(FairProbeFixture.grid(), defaults.probe().weightDecays(),
                "clmr.eval.fair.weight-decay changed: run make_fair_probe_fixture.py with the new grid");
        assertTrue(defaults.probe().standardise());
        assertEquals(StopMetric.TAG_ROC_AUC, defaults.probe().stopOn());
    }

    @Test
    void shouldMatchScikitLearnOnTheWellScaledFeatures() {
        matchScikitLearn("well");
    }

    @Test
    void shouldMatchScikitLearnOnTheBadlyScaledFeatures() {
        matchScikitLearn("bad");
    }

    private static void matchScikitLearn(String name) {
        FairProbeFixture.Set set = FairProbeFixture.load(name);
        ProbeEvaluation.Result r = evaluate(set, EvalSettings.from(ClmrConfig.defaults()));
        JsonNode ref = set.reference();
        double want = ref.get("test_tag_roc_auc").asDouble();
        double got = r.tagRocAuc().mean();
        System.out.printf(java.util.Locale.ROOT, "%s: clmr %.6f, scikit-learn %.6f, difference %.2e (weight decay %s vs %s)%n", name, got, want,
                got - want, r.runs().get(0).weightDecay(), ref.get("chosen_weight_decay").asDouble());
        assertEquals(want, got, TOLERANCE, name + ": test tag-wise ROC-AUC against scikit-learn");
        ProbeEvaluation.Run run = r.runs().get(0);
        List<ProbeSearch.Candidate> candidates = run.candidates();
        assertEquals(ref.get("per_weight_decay").size(), candidates.size());
        for (int i = 0; i < candidates.size(); i++) {
            JsonNode point = ref.get("per_weight_decay").get(i);
            assertEquals(point.get("weight_decay").asDouble(), candidates.get(i).weightDecay(), 0.0);
            assertEquals(point.get("valid_tag_roc_auc").asDouble(), candidates.get(i).validTagRocAuc(), TOLERANCE,
                    name + ": validation tag-wise ROC-AUC at weight decay " + candidates.get(i).weightDecay());
            assertEquals(0, candidates.get(i).unconvergedTags(), "every tag converged");
        }
        assertEquals(ref.get("chosen_weight_decay").asDouble(), run.weightDecay(), 0.0, name + ": the same weight decay is chosen");
        assertEquals(set.constant(), r.trainFeatures().constantDims(), "constant columns reported");
        for (ProbeEvaluation.Run other : r.runs()) {
            assertEquals(run.test().tagRocAucMean(), other.test().tagRocAucMean(), 0.0, "the L-BFGS head does not depend on the seed");
        }
    }

    @Test
    void shouldShowThatThePapersUnstandardisedProbeUnderstatesTheBadlyScaledFeatures() {
        // Guards the fixture: if the raw-feature probe did as well, the badly scaled set would test nothing.
        FairProbeFixture.Set set = FairProbeFixture.load("bad");
        EvalSettings paper = EvalSettings.from(ClmrConfig.load(null, List.of("eval.protocol=paper", "eval.seeds=1")));
        double raw = evaluate(set, paper).tagRocAuc().mean();
        double want = set.reference().get("test_tag_roc_auc").asDouble();
        System.out.printf(java.util.Locale.ROOT, "bad, paper protocol: %.4f (scikit-learn on standardised features %.4f)%n", raw, want);
        assertTrue(raw < want - 0.1, "paper protocol " + raw + " vs " + want);
    }

    @Test
    void shouldTrainTheMlpHeadBehindTheSameStandardisation() {
        EvalSettings mlp = EvalSettings.from(ClmrConfig.load(null, List.of("eval.head=mlp", "eval.hidden=32", "eval.seeds=1")));
        double well = evaluate(FairProbeFixture.load("well"), mlp).tagRocAuc().mean();
        double bad = evaluate(FairProbeFixture.load("bad"), mlp).tagRocAuc().mean();
        double want = FairProbeFixture.load("bad").reference().get("test_tag_roc_auc").asDouble();
        System.out.printf(java.util.Locale.ROOT, "mlp: well %.4f, bad %.4f (scikit-learn linear %.4f)%n", well, bad, want);
        assertTrue(bad > want - 0.03, "MLP on badly scaled features " + bad + " vs linear reference " + want);
        assertEquals(well, bad, 0.01, "standardisation makes the MLP blind to column scales");
    }
}

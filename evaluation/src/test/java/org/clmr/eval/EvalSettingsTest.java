package org.clmr.eval;

import org.clmr.eval.probe.ProbeHead;
import org.clmr.eval.probe.ProbeSpec;
import org.clmr.eval.probe.StopMetric;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.config.SettingsException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EvalSettingsTest {

    @Test
    void shouldGiveThePapersLinearEvaluationAsProtocolPaper() {
        EvalSettings s = EvalSettings.from(ClmrConfig.load(null, List.of("eval.protocol=paper")));
        assertEquals(ProbeHead.Kind.LINEAR, s.probe().kind());
        assertEquals(3e-4, s.probe().learningRate());
        assertEquals(1e-6, s.probe().weightDecay());
        assertEquals(5, s.probe().patience());
        assertEquals(512, s.probe().hidden());
        assertEquals(3, s.seeds());
        assertEquals(1.0, s.labelFraction());
    }

    @Test
    void shouldDefaultToTheFairProbe() {
        EvalSettings s = EvalSettings.from(ClmrConfig.defaults());
        assertEquals("fair", s.protocol());
        assertTrue(s.probe().standardise());
        assertEquals(List.of(1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1), s.probe().weightDecays());
        assertEquals(ProbeSpec.LinearSolver.LBFGS, s.probe().linearSolver());
        assertEquals(StopMetric.TAG_ROC_AUC, s.probe().stopOn());
        assertEquals(1e-3, s.probe().learningRate());
        assertEquals(10, s.probe().patience());
        assertEquals(ProbeHead.Kind.LINEAR, s.probe().kind());
        EvalSettings paper = EvalSettings.from(ClmrConfig.load(null, List.of("eval.protocol=paper")));
        assertFalse(paper.probe().standardise());
        assertEquals(StopMetric.TAG_PR_AUC, paper.probe().stopOn());
        assertEquals(ProbeSpec.LinearSolver.ADAM, paper.probe().linearSolver());
    }

    @Test
    void shouldTakeOneWeightDecayOrAGridAndNameTheKeyOfABadOne() {
        EvalSettings one = EvalSettings.from(ClmrConfig.load(null, List.of("eval.fair.weight-decay=[0.5]")));
        assertEquals(List.of(0.5), one.probe().weightDecays());
        EvalSettings grid = EvalSettings.from(ClmrConfig.load(null, List.of("eval.fair.weight-decay=[1e-2, 0, 1e-4]")));
        assertEquals(List.of(0.0, 1e-4, 1e-2), grid.probe().weightDecays(), "sorted ascending");
        for (String bad : List.of("[1e-3, 1e-3]", "[-1]", "[]", "[2]", "0.5", "[lots]")) {
            SettingsException e = assertThrows(SettingsException.class,
                    () -> EvalSettings.from(ClmrConfig.load(null, List.of("eval.fair.weight-decay=" + bad))), bad);
            assertEquals("clmr.eval.fair.weight-decay", e.key(), bad);
        }
    }

    @Test
    void shouldRefuseAnUnknownProtocol() {
        SettingsException protocol = assertThrows(SettingsException.class,
                () -> EvalSettings.from(ClmrConfig.load(null, List.of("eval.protocol=sklearn"))));
        assertEquals("clmr.eval.protocol", protocol.key());
        assertTrue(protocol.getMessage().contains("must be one of fair, paper"), protocol.getMessage());
    }

    @Test
    void shouldNameTheKeyOfAnInvalidValue() {
        SettingsException head = assertThrows(SettingsException.class,
                () -> EvalSettings.from(ClmrConfig.load(null, List.of("eval.head=svm"))));
        assertTrue(head.getMessage().startsWith("clmr.eval.head = svm is invalid"), head.getMessage());
        SettingsException fraction = assertThrows(SettingsException.class,
                () -> EvalSettings.from(ClmrConfig.load(null, List.of("eval.label-fraction=0"))));
        assertEquals("clmr.eval.label-fraction", fraction.key());
    }

    @Test
    void shouldApplyCommandLineOverridesAndRejectAFractionAboveOne() {
        EvalSettings s = EvalSettings.from(ClmrConfig.defaults()).with("mlp", 0.1, 1);
        assertEquals(ProbeHead.Kind.MLP, s.probe().kind());
        assertEquals(0.1, s.labelFraction());
        assertEquals(1, s.seeds());
        SettingsException e = assertThrows(SettingsException.class, () -> EvalSettings.from(ClmrConfig.defaults()).with(null, 1.5, null));
        assertEquals("--label-fraction", e.key());
    }
}

package org.clmr.eval;

import org.clmr.eval.probe.ProbeHead;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.config.SettingsException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

package org.clmr.eval.probe;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.clmr.eval.features.FeatureSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(60)
class ProbeProgressTest {
    private static final FeatureSet TRAIN = SyntheticFeatures.make(200, 16, 5, 2, 1, 10);
    private static final FeatureSet VALID = SyntheticFeatures.make(60, 16, 5, 2, 1, 11);
    private static final FeatureSet TEST = SyntheticFeatures.make(80, 16, 5, 3, 1, 12);

    /** The lines ProbeProgress logs at INFO and above while {@code body} runs. */
    private static List<String> infoLines(Runnable body) {
        Logger logger = (Logger) LoggerFactory.getLogger(ProbeProgress.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.setContext(logger.getLoggerContext());
        appender.start();
        logger.addAppender(appender);
        try {
            body.run();
        } finally {
            logger.detachAppender(appender);
        }
        return appender.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.INFO))
                .map(ILoggingEvent::getFormattedMessage).toList();
    }

    @Test
    void shouldSayOneLinePerHeadAndNothingPerEpochOffATerminal() {
        ProbeSpec spec = ProbeSpec.paperProtocol(ProbeHead.Kind.MLP, 16, 1e-2, 1e-6, 32, 30, 3);
        List<String> lines = infoLines(() -> ProbeEvaluation.run(TRAIN, VALID, TEST, spec, 1.0, 2, 0,
                new ProbeProgress(spec, "a synthetic encoder", false)));
        assertEquals(2, lines.size(), lines.toString());
        for (int k = 0; k < 2; k++) {
            String line = lines.get(k);
            assertTrue(line.startsWith("head " + (k + 1) + "/2 (seed " + k + ", 200 training tracks) of a synthetic encoder:"
                    + " weight decay 1e-6 chosen of 1 (valid tag ROC-AUC "), line);
            assertTrue(line.matches(".*; best epoch \\d+ of \\d+\\); test tag ROC-AUC 0\\.\\d{4}, PR-AUC 0\\.\\d{4}; \\d+\\.\\d s"),
                    line);
        }
    }

    @Test
    void shouldDrawABarOnATerminalAndStillSayEachHeadOnce() {
        ProbeSpec fair = ProbeSpec.paperProtocol(ProbeHead.Kind.LINEAR, 16, 1e-2, 1e-6, 32, 30, 3)
                .withWeightDecays(List.of(1e-4, 1e-2));
        List<String> lines = infoLines(() -> ProbeEvaluation.run(TRAIN, VALID, TEST, fair, 0.5, 1, 3,
                new ProbeProgress(fair, "x", true)));
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).contains(" chosen of 2 "), lines.get(0));
    }
}

package org.clmr.eval.probe;

import org.clmr.eval.features.FeatureSet;
import org.clmr.protocol.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(60)
class ProbeHeadFileTest {
    private static final FeatureSet TRAIN = SyntheticFeatures.rescaled(SyntheticFeatures.make(120, 6, 3, 2, 4, 30),
            new int[] {-9, 0, 4, 0, 12, -3}, List.of(2));
    private static final FeatureSet TEST = SyntheticFeatures.rescaled(SyntheticFeatures.make(40, 6, 3, 2, 4, 31),
            new int[] {-9, 0, 4, 0, 12, -3}, List.of(2));

    @TempDir
    Path dir;

    private void roundTrip(ProbeHead head) throws Exception {
        Path file = dir.resolve("head.json");
        ProbeHeadFile.write(file, head, TRAIN.tags(), "random:tiny:0", 1e-4);
        ProbeHeadFile.Stored back = ProbeHeadFile.read(file);
        assertEquals(TRAIN.tags(), back.tags());
        assertEquals("random:tiny:0", back.encoder());
        assertEquals(1e-4, back.weightDecay(), 0.0);
        assertFalse(back.head().scaler().isIdentity());
        double[][] want = ProbeTrainer.clipScores(head, TEST);
        double[][] got = ProbeTrainer.clipScores(back.head(), TEST);
        for (int c = 0; c < want.length; c++) {
            assertArrayEquals(want[c], got[c], 0.0, "a head read back predicts bit for bit from raw features");
        }
    }

    @Test
    void shouldStoreALinearHeadWithItsStandardisation() throws Exception {
        FeatureScaler scaler = FeatureScaler.standardising(org.clmr.eval.features.FeatureStats.of(TRAIN, "training"));
        assertEquals(0.0, scaler.factor(2), 0.0, "the constant column is switched off");
        roundTrip(new LinearProbeSolver(TRAIN, scaler).fit(1e-3, 1000).head());
    }

    @Test
    void shouldStoreAnMlpHeadWithItsStandardisation() throws Exception {
        ProbeSpec spec = new ProbeSpec(ProbeHead.Kind.MLP, 8, true, List.of(1e-4), ProbeSpec.LinearSolver.LBFGS, 1000, 1e-2, 32, 5, 5,
                StopMetric.TAG_ROC_AUC);
        roundTrip(ProbeTrainer.train(TRAIN, TEST, spec, 1, r -> { }).head());
    }

    @Test
    void shouldRefuseAFileThatIsNotAHeadInOneLine() throws Exception {
        Path other = dir.resolve("report.json");
        Files.writeString(other, "{\"clmr_version\": \"0.1\"}");
        UserError e = assertThrows(UserError.class, () -> ProbeHeadFile.read(other));
        assertTrue(e.getMessage().startsWith(other + " is not a clmr-probe-head version 1 file"), e.getMessage());
        Path file = dir.resolve("head.json");
        ProbeHeadFile.write(file, new LinearProbeSolver(TRAIN, FeatureScaler.identity(TRAIN.dim())).fit(1e-3, 50).head(), TRAIN.tags(), "e", 0);
        Files.writeString(file, Files.readString(file).replace("\"outputs\" : 3", "\"outputs\" : 4"));
        UserError bad = assertThrows(UserError.class, () -> ProbeHeadFile.read(file));
        assertTrue(bad.getMessage().contains("is inconsistent"), bad.getMessage());
        assertEquals(1, bad.getMessage().lines().count());
    }
}

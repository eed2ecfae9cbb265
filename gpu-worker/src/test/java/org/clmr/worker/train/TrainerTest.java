package org.clmr.worker.train;

import com.typesafe.config.Config;
import org.clmr.data.augment.AugmentationChain;
import org.clmr.protocol.UserError;
import org.clmr.protocol.checkpoint.CheckpointPayload;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.checkpoint.DirectoryCheckpointStore;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.run.RunSpec;
import org.clmr.worker.step.ViewPairs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(120)
class TrainerTest {

    static Config config(String... sets) {
        List<String> all = new ArrayList<>(List.of("run.model.preset=tiny", "run.model.projection-dim=16",
                "run.global-batch=4", "run.checkpoint.every-steps=3", "run.checkpoint.keep-last=2",
                "run.checkpoint.keep-every-epochs=0",
                "worker.train.max-consecutive-non-finite=2", "worker.threads=1"));
        all.addAll(List.of(sets));
        return ClmrConfig.load(null, all);
    }

    static Trainer trainer(Config c, Path dir, ViewPairSource source) {
        RunSpec spec = RunSpec.from(c);
        return new Trainer(spec, TrainSettings.from(c), source, new DirectoryCheckpointStore(dir), "run",
                new TrainListener() { });
    }

    static ViewPairSource tones(RunSpec spec) {
        return new SyntheticViewSource(spec.seed(), 16, spec.globalBatch(), spec.cropLength(), spec.sampleRate(),
                AugmentationChain.from(spec.augment()));
    }

    @Test
    void shouldRepeatTheUninterruptedRunExactlyAfterAResume(@TempDir Path straightDir, @TempDir Path resumedDir) {
        Config c = config();
        RunSpec spec = RunSpec.from(c);
        Trainer.Summary straight;
        try (Trainer t = trainer(c, straightDir, tones(spec))) {
            straight = t.run(7);
        }
        List<Double> resumedLosses = new ArrayList<>();
        try (Trainer t = trainer(c, resumedDir, tones(spec))) {
            resumedLosses.addAll(t.run(3).losses());
        }
        Trainer.Summary resumed;
        try (Trainer t = trainer(c, resumedDir, tones(spec))) {
            assertEquals(3, t.completedSteps());
            resumed = t.run(7);
            resumedLosses.addAll(resumed.losses());
        }
        assertEquals(straight.losses(), resumedLosses);
        assertEquals(straight.fingerprint(), resumed.fingerprint());
        assertEquals(0, straight.skipped());
        assertTrue(straight.losses().stream().allMatch(Double::isFinite));
        // steps 3, 6, 7 written; keep-last 2
        assertEquals(List.of(6L, 7L), new DirectoryCheckpointStore(straightDir).list("run").stream()
                .map(CheckpointRecord::step).toList());
    }

    @Test
    void shouldSkipNonFiniteStepsThenStopWithTheLastGoodCheckpointIntact(@TempDir Path dir) {
        Config c = config();
        RunSpec spec = RunSpec.from(c);
        ViewPairSource poisoned = new ViewPairSource() {
            final ViewPairSource inner = tones(spec);

            @Override
            public int batchSize() {
                return inner.batchSize();
            }

            @Override
            public int cropLength() {
                return inner.cropLength();
            }

            @Override
            public long stepsPerEpoch() {
                return inner.stepsPerEpoch();
            }

            @Override
            public String dataKey() {
                return inner.dataKey();
            }

            @Override
            public ViewPairs batch(int epoch, long step) {
                ViewPairs b = inner.batch(epoch, step);
                if (epoch * stepsPerEpoch() + step >= 4) {
                    b.first()[17] = Float.NaN;
                }
                return b;
            }
        };
        String goodFingerprint;
        try (Trainer t = trainer(c, dir, poisoned)) {
            UserError e = assertThrows(UserError.class, () -> t.run(20));
            assertTrue(e.getMessage().contains("2 consecutive steps had a non-finite loss"), e.getMessage());
            assertTrue(e.getMessage().contains("last good checkpoint: step 3"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
            goodFingerprint = t.network().fingerprint();
        }
        DirectoryCheckpointStore store = new DirectoryCheckpointStore(dir);
        CheckpointRecord last = store.latest("run").orElseThrow();
        assertEquals(3, last.step());
        CheckpointPayload p = CheckpointPayload.decode(store.read(last));
        assertTrue(p.tensors().stream().allMatch(x -> allFinite(x.data())));
        // skipped steps leave the weights as step 4 made them: a resumed trainer reaches the same ones
        try (Trainer t = trainer(c, dir, tones(spec))) {
            t.run(4);
            assertEquals(goodFingerprint, t.network().fingerprint());
        }
    }

    @Test
    void shouldRefuseACheckpointOfAnotherRunSpecOrWithABadChecksum(@TempDir Path dir) throws Exception {
        Config c = config();
        try (Trainer t = trainer(c, dir, tones(RunSpec.from(c)))) {
            t.run(3);
        }
        Config other = config("run.seed=7");
        UserError mismatch = assertThrows(UserError.class, () -> trainer(other, dir, tones(RunSpec.from(other))));
        assertTrue(mismatch.getMessage().contains("RunSpec"), mismatch.getMessage());
        Path file = Path.of(new DirectoryCheckpointStore(dir).latest("run").orElseThrow().location());
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x40;
        Files.write(file, bytes);
        UserError corrupt = assertThrows(UserError.class, () -> trainer(c, dir, tones(RunSpec.from(c))));
        assertTrue(corrupt.getMessage().contains("SHA-256"), corrupt.getMessage());
        assertFalse(corrupt.getMessage().contains("\n"));
    }

    private static boolean allFinite(float[] a) {
        for (float v : a) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }
}

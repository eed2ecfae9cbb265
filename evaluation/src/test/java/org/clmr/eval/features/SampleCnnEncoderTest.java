package org.clmr.eval.features;

import ai.djl.Device;
import org.clmr.protocol.UserError;
import org.clmr.protocol.checkpoint.CheckpointPayload;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.run.RunSpec;
import org.clmr.worker.model.ClmrNetwork;
import org.clmr.worker.optim.Adam;
import org.clmr.worker.train.TrainingCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(60)
class SampleCnnEncoderTest {
    @TempDir
    Path dir;

    @Test
    void shouldEncodeWithACheckpointsWeightsAndFindTheLatestStepInADirectory() throws Exception {
        RunSpec run = RunSpec.from(ClmrConfig.load(null, List.of("run.model.preset=tiny", "run.seed=11")));
        int length = run.model().inputLength();
        float[] windows = new float[3 * length];
        for (int i = 0; i < windows.length; i++) {
            windows[i] = (float) Math.sin(i * 0.01 * (1 + i / length));
        }
        float[] expected;
        // weights drawn with seed 99 while the run spec says 11: equal outputs prove the weights were restored
        try (ClmrNetwork net = ClmrNetwork.create(run.model(), 99, Device.cpu()); Adam adam = new Adam(run.optimizer(), net.params())) {
            CheckpointPayload payload = TrainingCheckpoint.capture(net, adam, run, "cfg", 2, 7, Map.of());
            Path runDir = dir.resolve("checkpoints").resolve("train");
            Files.createDirectories(runDir);
            Files.write(runDir.resolve("step-000000000007.ckpt"), payload.encode());
            Files.write(runDir.resolve("step-000000000003.ckpt"), new byte[] {1, 2, 3});
            try (SampleCnnEncoder direct = SampleCnnEncoder.random(run.model(), run.sampleRate(), 99)) {
                expected = direct.encode(windows, 3);
            }
        }
        try (SampleCnnEncoder enc = SampleCnnEncoder.fromCheckpoint(dir)) {
            assertEquals(64, enc.dim());
            assertEquals(length, enc.inputLength());
            assertEquals(22050, enc.sampleRate());
            assertTrue(enc.description().contains("step 7"), enc.description());
            float[] h = enc.encode(windows, 3);
            assertEquals(3 * 64, h.length);
            assertArrayEquals(expected, h, 1e-6f);
        }
    }

    @Test
    void shouldRefuseACorruptCheckpointInOneLine() throws Exception {
        Path f = dir.resolve("step-000000000001.ckpt");
        Files.write(f, new byte[100]);
        UserError e = assertThrows(UserError.class, () -> SampleCnnEncoder.fromCheckpoint(f));
        assertTrue(e.getMessage().contains("CLMRCKPT"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }
}

package org.clmr.worker.train;

import ai.djl.Device;
import org.clmr.protocol.UserError;
import org.clmr.worker.device.CudaEnvironment;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainSettingsTest {

    @Test
    void shouldReadTheCudaSettingWithTf32OffByDefault() {
        TrainSettings s = TrainSettings.from(TrainerTest.config("worker.device=\"cuda:3\""));
        assertFalse(s.allowTf32());
        assertEquals(3, s.gpuIndex(), "validated without touching CUDA or the environment");
        assertTrue(TrainSettings.from(TrainerTest.config("worker.cuda.allow-tf32=on")).allowTf32());
    }

    @Test
    void shouldTrainOnTheWorkersOwnGpuAsCudaNumbersIt() {
        TrainSettings s = TrainSettings.from(TrainerTest.config("worker.device=\"cuda:3\""));
        assertEquals(Device.gpu(0), s.djlDevice(CudaEnvironment.forWorker(3, false)));
        assertEquals(Device.cpu(), TrainSettings.from(TrainerTest.config()).djlDevice(Map.of()));
    }

    @Test
    void shouldRefuseAGpuWithoutTheEnvironmentOfReproducibleBitsInOneLine() {
        TrainSettings s = TrainSettings.from(TrainerTest.config("worker.device=\"cuda:0\""));
        UserError e = assertThrows(UserError.class, () -> s.djlDevice(Map.of()));
        assertTrue(e.getMessage().startsWith("clmr.worker.device = cuda:0: ") && e.getMessage().contains("NVIDIA_TF32_OVERRIDE=0")
                && !e.getMessage().contains("\n"), e.getMessage());
        UserError other = assertThrows(UserError.class, () -> s.djlDevice(CudaEnvironment.forWorker(1, false)));
        assertTrue(other.getMessage().contains("cuda:0 is not among CUDA_VISIBLE_DEVICES=1"), other.getMessage());
    }
}

package org.clmr.worker.device;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CudaEnvironmentTest {

    @Test
    void shouldGiveAWorkerItsGpuInPciOrderWithDeterministicCublasAndNoTf32() {
        assertEquals(Map.of("CUDA_VISIBLE_DEVICES", "3", "CUDA_DEVICE_ORDER", "PCI_BUS_ID",
                "CUBLAS_WORKSPACE_CONFIG", ":4096:8", "NVIDIA_TF32_OVERRIDE", "0"), CudaEnvironment.forWorker(3, false));
        assertEquals(Map.of("CUDA_VISIBLE_DEVICES", "1", "CUDA_DEVICE_ORDER", "PCI_BUS_ID",
                "CUBLAS_WORKSPACE_CONFIG", ":4096:8"), CudaEnvironment.forWorker(1, true), "TF32 allowed");
    }

    @Test
    void shouldAcceptWhatTheSupervisorSetsAndNameWhatIsMissing() {
        assertTrue(CudaEnvironment.problem(CudaEnvironment.forWorker(2, false), false).isEmpty());
        String line = CudaEnvironment.problem(Map.of("NVIDIA_TF32_OVERRIDE", "1"), false).orElseThrow();
        assertTrue(line.contains("CUBLAS_WORKSPACE_CONFIG=:4096:8 (unset)") && line.contains("NVIDIA_TF32_OVERRIDE=0 (is 1)")
                && line.contains("clmr worker --devices") && !line.contains("\n"), line);
        assertTrue(CudaEnvironment.problem(Map.of("CUBLAS_WORKSPACE_CONFIG", ":4096:8"), true).isEmpty(),
                "TF32 allowed, no visible-devices list: nothing else needed");
        String order = CudaEnvironment.problem(Map.of("CUBLAS_WORKSPACE_CONFIG", ":4096:8",
                "NVIDIA_TF32_OVERRIDE", "0", "CUDA_VISIBLE_DEVICES", "1"), false).orElseThrow();
        assertTrue(order.contains("CUDA_DEVICE_ORDER=PCI_BUS_ID (unset)"), "a visible list in CUDA's own order: " + order);
    }

    @Test
    void shouldMapNvidiaSmiIndicesToCudaOrdinalsAndBack() {
        assertEquals(5, CudaEnvironment.ordinal(5, Map.of()));
        assertEquals(0, CudaEnvironment.ordinal(5, Map.of("CUDA_VISIBLE_DEVICES", "5")));
        assertEquals(1, CudaEnvironment.ordinal(5, Map.of("CUDA_VISIBLE_DEVICES", "2, 5")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CudaEnvironment.ordinal(4, Map.of("CUDA_VISIBLE_DEVICES", "2,5")));
        assertTrue(e.getMessage().contains("cuda:4 is not among CUDA_VISIBLE_DEVICES=2,5"), e.getMessage());
        assertEquals("5", CudaEnvironment.physical(1, Map.of("CUDA_VISIBLE_DEVICES", "2,5")));
        assertEquals("GPU-8a1b", CudaEnvironment.physical(0, Map.of("CUDA_VISIBLE_DEVICES", "GPU-8a1b")));
        assertEquals("3", CudaEnvironment.physical(3, Map.of()));
    }
}

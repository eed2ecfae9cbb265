package org.clmr.worker.device;

import org.clmr.protocol.config.SettingsException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DevicesTest {
    private static final DeviceInfo CPU = new DeviceInfo("cpu", "AMD EPYC", 8L << 30, 2);
    private static final Devices.Detected NO_GPU = new Devices.Detected(List.of(), CPU, "no nvidia-smi on PATH");

    @Test
    void shouldParseNvidiaSmiLinesInIndexOrder() {
        List<DeviceInfo> gpus = Devices.parseNvidiaSmi("1, NVIDIA A10G, 23028\n0, NVIDIA H100 80GB HBM3, 81559\n");
        assertEquals(List.of(new DeviceInfo("cuda:0", "NVIDIA H100 80GB HBM3", 81559L << 20, 0),
                new DeviceInfo("cuda:1", "NVIDIA A10G", 23028L << 20, 0)), gpus);
        assertEquals("cuda:0 NVIDIA H100 80GB HBM3 79.6 GiB", gpus.get(0).describe());
        assertTrue(Devices.parseNvidiaSmi("No devices were found\n").isEmpty());
    }

    @Test
    void shouldMeanTheCpuByAllOnAMachineWithoutGpus() {
        assertEquals(List.of(CPU), Devices.resolve("all", NO_GPU));
        assertEquals(List.of(CPU), Devices.resolve("cpu", NO_GPU));
        assertEquals("cpu AMD EPYC, 2 cores, 8.0 GiB", CPU.describe());
    }

    @Test
    void shouldResolveNamedGpusAndRefuseMissingOrRepeatedOnes() {
        DeviceInfo g0 = new DeviceInfo("cuda:0", "A", 1L << 30, 0);
        DeviceInfo g1 = new DeviceInfo("cuda:1", "B", 1L << 30, 0);
        Devices.Detected two = new Devices.Detected(List.of(g0, g1), CPU, "nvidia-smi");
        assertEquals(List.of(g0, g1), Devices.resolve("all", two));
        assertEquals(List.of(g1, g0), Devices.resolve("cuda:1,gpu:0", two));
        SettingsException missing = assertThrows(SettingsException.class, () -> Devices.resolve("cuda:2", two));
        assertTrue(missing.getMessage().contains("2 GPU(s)"), missing.getMessage());
        assertThrows(SettingsException.class, () -> Devices.resolve("cuda:0,cuda:0", two));
        assertThrows(SettingsException.class, () -> Devices.resolve("tpu:0", two));
        assertThrows(SettingsException.class, () -> Devices.resolve("cuda:0", NO_GPU));
    }

    /** Without nvidia-smi, the driver's directory: one folder per GPU by PCI bus id, in bus order. */
    @Test
    void shouldListTheDriversGpusInPciBusOrderWithoutTheCudaRuntime(@TempDir Path dir) throws Exception {
        for (String[] gpu : new String[][] {{"0000:b1:00.0", "NVIDIA H100 80GB HBM3"}, {"0000:1a:00.0", "NVIDIA A10G"}}) {
            Path bus = Files.createDirectories(dir.resolve(gpu[0]));
            Files.writeString(bus.resolve("information"), "Model: \t\t " + gpu[1] + "\nIRQ:   123\nBus Type:   PCIe\n");
        }
        Files.createDirectories(dir.resolve("0000:3b:00.0"));
        assertEquals(List.of(new DeviceInfo("cuda:0", "NVIDIA A10G", 0, 0),
                new DeviceInfo("cuda:1", "NVIDIA GPU at 0000:3b:00.0", 0, 0),
                new DeviceInfo("cuda:2", "NVIDIA H100 80GB HBM3", 0, 0)), Devices.driverGpus(dir));
        assertTrue(Devices.driverGpus(dir.resolve("missing")).isEmpty());
    }

    @Test
    void shouldDetectThisMachinesCpu() {
        DeviceInfo cpu = Devices.detect().cpu();
        assertEquals(Runtime.getRuntime().availableProcessors(), cpu.cores());
        assertTrue(!cpu.model().isBlank() && cpu.describe().startsWith("cpu "), cpu.describe());
    }
}

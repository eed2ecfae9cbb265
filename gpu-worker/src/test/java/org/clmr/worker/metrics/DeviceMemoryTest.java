package org.clmr.worker.metrics;

import ai.djl.Device;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeviceMemoryTest {

    @Test
    void shouldReadAGpusMemoryFromNvidiaSmiOncePerReading() {
        List<String> asked = new ArrayList<>();
        DeviceMemory m = DeviceMemory.of(Device.gpu(0), id -> {
            asked.add(id);
            return "1234, 81559\n";
        });
        assertTrue(m.isGpu());
        assertEquals(OptionalLong.of(1234L << 20), m.usedBytes());
        assertEquals(OptionalLong.of(81559L << 20), m.totalBytes());
        assertEquals(1, asked.size(), "one nvidia-smi run for a scrape's two figures");
        String visible = System.getenv("CUDA_VISIBLE_DEVICES");
        assertEquals(visible == null ? "0" : visible.split(",")[0].trim(), asked.get(0));
    }

    @Test
    void shouldReportNothingWhenNvidiaSmiGivesNothing() {
        DeviceMemory m = DeviceMemory.of(Device.gpu(0), id -> null);
        assertEquals(OptionalLong.empty(), m.usedBytes());
        assertEquals(OptionalLong.empty(), m.totalBytes());
        assertNull(DeviceMemory.parse("[N/A], 81559"));
        assertArrayEquals(new long[] {0, 1L << 20}, DeviceMemory.parse("0, 1"));
    }

    @Test
    void shouldReportTheResidentSetOnTheCpu() {
        DeviceMemory m = DeviceMemory.of(Device.cpu());
        assertTrue(m.usedBytes().orElseThrow() > 1 << 20);
        assertTrue(m.totalBytes().orElseThrow() >= m.usedBytes().orElseThrow());
    }
}

package org.clmr.worker.device;

import ai.djl.Device;
import org.clmr.protocol.run.ModelSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CUDA check's code path, run on the CPU (its "device" then is the CPU too): four passing checks. */
@Timeout(300)
class GpuCheckTest {

    @Test
    void shouldPassEveryCheckOnTheCpu() throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        boolean ok;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            ok = GpuCheck.run(Device.cpu(), ModelSpec.preset("tiny", 128), 4, 8);
        } finally {
            System.setOut(original);
        }
        String out = captured.toString(StandardCharsets.UTF_8);
        System.out.print(out);
        assertTrue(ok, out);
        long lines = out.lines().filter(l -> l.startsWith("{\"check\":")).count();
        assertEquals(4, lines, out);
        for (String check : new String[] {"parity", "steps", "ranks", "determinism"}) {
            assertTrue(out.contains("{\"check\":\"" + check + "\",\"ok\":true,"), out);
        }
        assertTrue(out.contains("\"native_resources_per_step\":0.00"), out);
    }
}

package org.clmr.protocol.process;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JvmFlagsTest {
    /** Prints the flags a coordinator started from this process would get, one line. */
    public static final class PrintCoordinatorFlags {
        public static void main(String[] args) {
            System.out.println(String.join(" ", JvmFlags.forCommand(List.of("coordinator", "--run-dir", "r"))));
        }
    }

    @Test
    void shouldGiveACoordinatorThePomsCoordinatorFlagsAndOtherCommandsNothing() {
        List<String> coordinator = JvmFlags.forCommand(List.of("coordinator", "--run-dir", "r"));
        assertTrue(coordinator.contains("-XX:TieredStopAtLevel=1"), coordinator.toString());
        assertEquals(List.of(), JvmFlags.forCommand(List.of("worker", "--seed-nodes", "h:1")));
        assertEquals(List.of(), JvmFlags.forCommand(List.of()));
        assertEquals(List.of(), JvmFlags.forCommand(List.of("status", "coordinator")));
    }

    @Test
    void shouldPutThemOnACoordinatorsCommandLineOnly() {
        List<String> c = JavaProcess.of("org.clmr.ops.Clmr").args("coordinator", "--run-dir", "r").command();
        List<String> w = JavaProcess.of("org.clmr.ops.Clmr").args("worker").command();
        assertTrue(c.contains("-XX:TieredStopAtLevel=1"), c.toString());
        assertFalse(w.contains("-XX:TieredStopAtLevel=1"), w.toString());
        assertTrue(c.indexOf("-XX:TieredStopAtLevel=1") < c.indexOf("org.clmr.ops.Clmr"), "a JVM flag, before the main class");
    }

    @Test
    @Timeout(120)
    void shouldMapTheClassDataArchiveTheEnvironmentNamesWhenItExists(@TempDir Path dir) throws Exception {
        Path archive = Files.writeString(dir.resolve("coordinator.jsa"), "x");
        assertEquals("-XX:TieredStopAtLevel=1 -XX:SharedArchiveFile=" + archive, childFlags(archive.toString()));
        assertEquals("-XX:TieredStopAtLevel=1", childFlags(dir.resolve("absent.jsa").toString()));
        assertEquals("-XX:TieredStopAtLevel=1", childFlags(""));
    }

    private static String childFlags(String archive) throws Exception {
        Process p = JavaProcess.of(PrintCoordinatorFlags.class).maxHeap("64m").env(JvmFlags.CLASS_DATA_ENV, archive)
                .pipeOutput().start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            assertTrue(p.waitFor(50, TimeUnit.SECONDS), "child JVM did not finish");
            assertEquals(0, p.exitValue(), out);
            return out;
        } finally {
            p.destroyForcibly();
        }
    }
}

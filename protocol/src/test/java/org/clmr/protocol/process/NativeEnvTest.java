package org.clmr.protocol.process;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NativeEnvTest {
    /** Prints the malloc variables it was started with. */
    public static final class PrintMallocEnv {
        public static void main(String[] args) {
            System.out.println(System.getenv("MALLOC_ARENA_MAX") + " " + System.getenv("MALLOC_TRIM_THRESHOLD_"));
        }
    }

    @Test
    void shouldDeclareThePomsMallocSettings() {
        Map<String, String> v = NativeEnv.variables();
        assertEquals(java.util.List.of("MALLOC_ARENA_MAX", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_MAX_",
                "MALLOC_TOP_PAD_"), java.util.List.copyOf(v.keySet()));
        v.values().forEach(value -> assertTrue(value.matches("\\d+"), "a byte count or arena count: " + value));
    }

    @Test
    @Timeout(60)
    void shouldHandThemToAChildUnlessOneIsSetExplicitly() throws Exception {
        Process p = JavaProcess.of(PrintMallocEnv.class).maxHeap("64m").env("MALLOC_ARENA_MAX", "4")
                .pipeOutput().start();
        String out;
        try {
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            assertTrue(p.waitFor(50, TimeUnit.SECONDS), "child JVM did not finish");
        } finally {
            p.destroyForcibly();
        }
        assertEquals("4 " + NativeEnv.variables().get("MALLOC_TRIM_THRESHOLD_"), out);
    }

    @Test
    void shouldKeepAValueTheEnvironmentAlreadyHas() {
        Map<String, String> env = new HashMap<>(Map.of("MALLOC_TOP_PAD_", "0"));
        NativeEnv.applyTo(env);
        assertEquals("0", env.get("MALLOC_TOP_PAD_"));
        assertEquals(NativeEnv.variables().get("MALLOC_ARENA_MAX"), env.get("MALLOC_ARENA_MAX"));
    }

    @Test
    void shouldRefuseAMalformedDeclaration() {
        assertThrows(IllegalStateException.class, () -> NativeEnv.parse("MALLOC_ARENA_MAX"));
        assertEquals(Map.of("A", "1", "B", "2"), NativeEnv.parse(" A=1  B=2\n"));
    }
}

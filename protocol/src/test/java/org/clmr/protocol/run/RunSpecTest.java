package org.clmr.protocol.run;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.SerializationTestKit;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.process.JavaProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunSpecTest {
    private static ActorTestKit testKit;

    @BeforeAll
    static void start() {
        testKit = ActorTestKit.create();
    }

    @AfterAll
    static void stop() {
        testKit.shutdownTestKit();
    }

    @Test
    void shouldHashEqualSpecsEquallyAndDifferentSpecsDifferently() {
        RunSpec a = RunSpec.from(ClmrConfig.defaults());
        RunSpec b = RunSpec.from(ClmrConfig.defaults());
        assertEquals(a, b);
        assertEquals(a.hash(), b.hash());
        for (String change : List.of("run.seed=1", "run.augment.pitch.probability=0.5", "run.model.preset=tiny",
                "run.optimizer.beta2=0.99", "run.checkpoint.keep-last=4")) {
            RunSpec c = RunSpec.from(ClmrConfig.load(null, List.of(change)));
            assertNotEquals(a.hash(), c.hash(), change);
        }
    }

    @Test
    void shouldHashTheSameInAnotherJvm() throws Exception {
        Process p = JavaProcess.of(PrintHash.class).maxHeap("256m").pipeOutput().start();
        String out;
        try {
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish");
        } finally {
            p.destroyForcibly();
        }
        assertEquals(RunSpec.from(ClmrConfig.defaults()).hash(), out);
    }

    @Test
    void shouldSurviveASerializationRoundTrip() {
        SerializationTestKit kit = new SerializationTestKit(testKit.system());
        RunSpec spec = RunSpec.from(ClmrConfig.load(null, List.of("run.model.preset=tiny", "run.seed=-3")));
        kit.verifySerialization(spec, true);
        kit.verifySerialization(new CheckpointRecord("run-1", 500, 3, 2, 1234, "ab".repeat(32),
                Instant.parse("2026-11-24T12:00:00Z"), spec.hash(), "/tmp/x"), true);
    }

    @Test
    void shouldCheckThatTheInputLengthFitsTheStrides() {
        ModelSpec bad = new ModelSpec("custom", 1000, 16, List.of(16, 32), 16);
        assertThrows(org.clmr.protocol.config.SettingsException.class, bad::validated);
        assertEquals(27, new ModelSpec("custom", 27, 16, List.of(16, 32), 16).validated().inputLength());
        for (String preset : ModelSpec.PRESETS) {
            ModelSpec.preset(preset, 128).validated();
        }
    }

    @Test
    void shouldRefuseChannelWidthsThatAreNotMultiplesOfSixteen() {
        var e = assertThrows(org.clmr.protocol.config.SettingsException.class,
                () -> new ModelSpec("custom", 27, 16, List.of(16, 24), 16).validated());
        assertTrue(e.getMessage().contains("channel width 24"), e.getMessage());
        assertThrows(org.clmr.protocol.config.SettingsException.class,
                () -> new ModelSpec("custom", 27, 8, List.of(16, 16), 16).validated());
    }

    /** Child-JVM entry point: prints the default RunSpec's hash. */
    public static final class PrintHash {
        public static void main(String[] args) {
            System.out.println(RunSpec.from(ClmrConfig.defaults()).hash());
        }
    }
}

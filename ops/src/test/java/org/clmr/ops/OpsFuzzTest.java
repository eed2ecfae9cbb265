package org.clmr.ops;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.clmr.eval.features.NpyFuzzTest;
import org.clmr.eval.metrics.ClipTableFuzzTest;
import org.clmr.protocol.config.SettingsFuzzTest;
import org.clmr.protocol.fuzz.Multiplexer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.stream.Stream;

/**
 * The bounded fuzz run in {@code mvn verify} of what only ops sees whole (docs/fuzzing.md): settings through every
 * module's Settings, and evaluation's readers (the feature cache's .npy files, the CSV tables of clmr metrics).
 */
@Tag("fuzz")
class OpsFuzzTest {
    private static final Multiplexer TARGETS = new Multiplexer(List.of(
            new Multiplexer.Target("all-settings", AllSettingsFuzzTest::check, AllSettingsFuzzTest::settings),
            new Multiplexer.Target("npy", NpyFuzzTest::check, NpyFuzzTest::matrices),
            new Multiplexer.Target("clip-table", ClipTableFuzzTest::check, ClipTableFuzzTest::tables)));

    static Stream<byte[]> seeds() {
        return TARGETS.seeds();
    }

    @MethodSource("seeds")
    @FuzzTest(maxDuration = "30s")
    void anyOpsInput(byte[] input) {
        TARGETS.run(input);
    }

    @AfterAll
    static void report() {
        System.out.println(TARGETS.counts());
    }
}

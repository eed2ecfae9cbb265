package org.clmr.protocol;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.clmr.protocol.checkpoint.CheckpointPayloadFuzzTest;
import org.clmr.protocol.checkpoint.CheckpointStoreFuzzTest;
import org.clmr.protocol.config.SettingsFuzzTest;
import org.clmr.protocol.fuzz.Multiplexer;
import org.clmr.protocol.wire.FrameFlyweightFuzzTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.stream.Stream;

/**
 * This module's bounded fuzz run in {@code mvn verify} (docs/fuzzing.md): collective frames, checkpoint files,
 * the directory store's files and settings, in one JVM.
 */
@Tag("fuzz")
class ProtocolFuzzTest {
    private static final Multiplexer TARGETS = new Multiplexer(List.of(
            new Multiplexer.Target("frame", FrameFlyweightFuzzTest::check, FrameFlyweightFuzzTest::soundFrames),
            new Multiplexer.Target("checkpoint", CheckpointPayloadFuzzTest::check, CheckpointPayloadFuzzTest::soundCheckpoints),
            new Multiplexer.Target("store", CheckpointStoreFuzzTest::check, CheckpointStoreFuzzTest::storedCheckpoints),
            new Multiplexer.Target("settings", SettingsFuzzTest::check, SettingsFuzzTest::settings)));

    static Stream<byte[]> seeds() {
        return TARGETS.seeds();
    }

    @MethodSource("seeds")
    @FuzzTest(maxDuration = "30s")
    void anyProtocolInput(byte[] input) {
        TARGETS.run(input);
    }

    @AfterAll
    static void report() {
        System.out.println(TARGETS.counts());
    }
}

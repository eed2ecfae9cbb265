package org.clmr.data;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.clmr.data.audio.WavFuzzTest;
import org.clmr.data.dataset.DatasetIndexFuzzTest;
import org.clmr.protocol.config.SettingsFuzzTest;
import org.clmr.protocol.fuzz.Multiplexer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.stream.Stream;

/**
 * This module's bounded fuzz run in {@code mvn verify} (docs/fuzzing.md): WAV files, dataset indexes and the
 * {@code clmr.data} settings, in one JVM.
 */
@Tag("fuzz")
class DataLoaderFuzzTest {
    private static final Multiplexer TARGETS = new Multiplexer(List.of(
            new Multiplexer.Target("wav", WavFuzzTest::check, WavFuzzTest::wavFiles),
            new Multiplexer.Target("index", DatasetIndexFuzzTest::check, DatasetIndexFuzzTest::indexes),
            new Multiplexer.Target("data-settings", DataSettingsFuzz::check, DataSettingsFuzz::settings)));

    static Stream<byte[]> seeds() {
        return TARGETS.seeds();
    }

    @MethodSource("seeds")
    @FuzzTest(maxDuration = "30s")
    void anyDataLoaderInput(byte[] input) {
        TARGETS.run(input);
    }

    @AfterAll
    static void report() {
        System.out.println(TARGETS.counts());
    }

    /** HOCON through {@link DataSettings#from}: {@code clmr.data} overrides and files. */
    static final class DataSettingsFuzz {
        static Stream<byte[]> settings() {
            return Stream.of("\0data.prepare.jobs=0\ndata.generate.seconds=0.1\ndata.pipeline.prefetch=64",
                    "\1clmr.data { prepare.progress-interval = 100ms, generate.seed = -1 }").map(String::getBytes);
        }

        static void check(byte[] input) {
            SettingsFuzzTest.load(input, DataSettings::from);
        }
    }
}

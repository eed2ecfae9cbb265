package org.clmr.ops;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.clmr.protocol.config.SettingsFuzzTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;

/**
 * Fuzzes HOCON through every module's Settings as a command reads them at start ({@link AllSettings}): the
 * {@code --set} overrides or the {@code --config} file either load or stop the command with one
 * {@link org.clmr.protocol.config.SettingsException} line (the input's first byte: even for --set lines, odd for
 * a file). Lives here because only ops sees every module; fuzzed in verify through {@link OpsFuzzTest}.
 */
class AllSettingsFuzzTest {

    /** Overrides and files of every module's sections. */
    static Stream<byte[]> settings() {
        return Stream.of("\0coordinator.http.port=0\ncoordinator.cluster.seed-nodes=[\"akka://clmr@h:1\"]",
                        "\0worker.aeron.transport=ipc\nworker.aeron.term-length=64k\nworker.aeron.op-timeout=1ms",
                        "\0eval.head=mlp\neval.hidden=1\neval.learning-rate=1\nworker.train.log-every-steps=1",
                        "\0coordinator.database.kind=postgresql\ncoordinator.database.url=\"jdbc:postgresql://db/x\"",
                        "\1clmr { worker { metrics.port = 65535, cluster.coordinator-lost-after = 1h }, "
                                + "data.pipeline.threads = 256, coordinator.rebalance-threshold = 0 }")
                .map(s -> s.getBytes(StandardCharsets.UTF_8));
    }

    @MethodSource("settings")
    @FuzzTest(maxDuration = "20s")
    void anySettingsOfEveryModule(byte[] input) {
        check(input);
    }

    /** The target. */
    static void check(byte[] input) {
        SettingsFuzzTest.load(input, AllSettings::validate);
    }
}

package org.clmr.protocol.config;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.clmr.protocol.fuzz.ReaderContract;
import org.clmr.protocol.run.RunSpec;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * Fuzzes HOCON through the settings readers of this module: {@link ClmrConfig#load} (the {@code --set}
 * overrides and the {@code --config} file) then {@link RunSpec#from}, which reads every {@code clmr.run} value
 * through {@link ConfigReader}. An input whose first byte is even is a list of {@code --set} lines, otherwise a
 * file. Either the settings load or the command stops with one {@link SettingsException} line.
 */
public class SettingsFuzzTest {
    /** The reader's typed errors. */
    public static final List<Class<? extends Exception>> TYPED = List.of(SettingsException.class);
    /** Loading resolves every module's reference: its allocation does not scale with the input. */
    public static final ReaderContract.Allocation SETTINGS = new ReaderContract.Allocation(4096, 1L << 30);

    /** Overrides and files that load, and ones at the ends of their ranges. */
    public static Stream<byte[]> settings() {
        return Stream.of("\0run.global-batch=48\nrun.seed=-9223372036854775808\nrun.sample-rate=1000",
                        "\0run.augment.pitch.probability=1\nclmr.run.augment.reverb.room-size-max=100",
                        "\0run.model.preset=tiny\nrun.temperature=0.5\nrun.checkpoint.every-steps=1",
                        "\1clmr { run { epochs = 3, augment.gain.min-db = -6 } }\n",
                        "\1clmr.run.optimizer { learning-rate = 3e-4 }\ninclude \"missing.conf\"\n")
                .map(s -> s.getBytes(StandardCharsets.UTF_8));
    }

    @MethodSource("settings")
    @FuzzTest(maxDuration = "20s")
    void anySettings(byte[] input) {
        check(input);
    }

    /** The target. */
    public static void check(byte[] input) {
        load(input, config -> RunSpec.from(config));
    }

    /** Loads the input as --set lines or a file, then applies {@code read} to the configuration. */
    public static void load(byte[] input, java.util.function.Consumer<com.typesafe.config.Config> read) {
        if (input.length == 0) {
            return;
        }
        String text = new String(input, 1, input.length - 1, StandardCharsets.UTF_8);
        if ((input[0] & 1) == 0) {
            List<String> sets = Arrays.asList(text.split("\n"));
            ReaderContract.check("settings --set " + sets, input.length, SETTINGS, TYPED, () -> {
                read.accept(ClmrConfig.load(null, sets));
                return null;
            });
            return;
        }
        Path file = null;
        try {
            file = Files.createTempFile("clmr-settings-fuzz", ".conf");
            Files.write(file, Arrays.copyOfRange(input, 1, input.length));
            Path f = file;
            ReaderContract.check("settings file " + text, input.length, SETTINGS, TYPED, () -> {
                read.accept(ClmrConfig.load(f, List.of()));
                return null;
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (file != null) {
                file.toFile().delete();
            }
        }
    }
}

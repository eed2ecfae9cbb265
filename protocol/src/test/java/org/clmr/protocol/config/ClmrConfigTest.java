package org.clmr.protocol.config;

import com.typesafe.config.Config;
import org.clmr.protocol.run.RunSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClmrConfigTest {

    @Test
    void shouldLoadDefaultsAsThePapersRun() {
        RunSpec spec = RunSpec.from(ClmrConfig.defaults());
        assertEquals("paper", spec.model().preset());
        assertEquals(59049, spec.cropLength());
        assertEquals(22050, spec.sampleRate());
        assertEquals(96, spec.globalBatch());
        assertEquals(0.5, spec.temperature());
        assertEquals(3e-4, spec.optimizer().learningRate());
        assertEquals(0.8, spec.augment().polarity().probability());
        assertEquals(0.6, spec.augment().reverb().probability());
    }

    @Test
    void shouldRejectANegativeGlobalBatchNamingTheKey() {
        Config c = ClmrConfig.load(null, List.of("run.global-batch=-4"));
        SettingsException e = assertThrows(SettingsException.class, () -> RunSpec.from(c));
        assertEquals("clmr.run.global-batch", e.key());
        assertTrue(e.getMessage().contains("-4"), e.getMessage());
        assertTrue(e.getMessage().contains("[2, 1000000]"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }

    @Test
    void shouldRejectAnUnknownKey() {
        SettingsException e = assertThrows(SettingsException.class,
                () -> ClmrConfig.load(null, List.of("clmr.run.augment.chorus.probability=0.5")));
        assertEquals("clmr.run.augment.chorus", e.key());
    }

    @Test
    void shouldRejectAWrongType() {
        SettingsException e = assertThrows(SettingsException.class,
                () -> ClmrConfig.load(null, List.of("run.temperature=\"warm\"")));
        assertEquals("clmr.run.temperature", e.key());
        SettingsException section = assertThrows(SettingsException.class,
                () -> ClmrConfig.load(null, List.of("run.optimizer=3")));
        assertEquals("clmr.run.optimizer", section.key());
    }

    @Test
    void shouldRejectAValueForTheRootItselfAndKeepKeysOnOneLine() {
        // issue #23, found by AllSettingsFuzzTest: --set clmr=0m0ms ended in ConfigException$WrongType
        SettingsException root = assertThrows(SettingsException.class, () -> ClmrConfig.load(null, List.of("clmr=1")));
        assertEquals("clmr", root.key());
        // found by ProtocolFuzzTest: control characters in a key came out raw, a carriage return among them
        SettingsException key = assertThrows(SettingsException.class,
                () -> ClmrConfig.load(null, List.of("run.every\u000e\r-steps=0")));
        assertEquals(-1, key.getMessage().indexOf('\r'), key.getMessage());
        assertEquals(-1, key.getMessage().indexOf('\n'), key.getMessage());
    }

    @Test
    void shouldRejectAnInvertedRange() {
        Config c = ClmrConfig.load(null, List.of("run.augment.gain.min-db=3", "run.augment.gain.max-db=1"));
        SettingsException e = assertThrows(SettingsException.class, () -> RunSpec.from(c));
        assertEquals("clmr.run.augment.gain.min-db", e.key());
    }

    @Test
    void shouldApplySetsOverTheFileOverTheDefaults(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("run.conf");
        Files.writeString(file, "clmr.run { seed = 7, global-batch = 48, model.preset = tiny }\n");
        Config c = ClmrConfig.load(file, List.of("clmr.run.global-batch=12"));
        RunSpec spec = RunSpec.from(c);
        assertEquals(7, spec.seed());
        assertEquals(12, spec.globalBatch());
        assertEquals("tiny", spec.model().preset());
    }

    @Test
    void shouldNameAMissingConfigFile(@TempDir Path dir) {
        SettingsException e = assertThrows(SettingsException.class,
                () -> ClmrConfig.load(dir.resolve("nope.conf"), List.of()));
        assertTrue(e.getMessage().contains("nope.conf"), e.getMessage());
    }

    @Test
    void shouldHashTheResolvedTreeStably() {
        String a = ClmrConfig.hash(ClmrConfig.defaults());
        String b = ClmrConfig.hash(ClmrConfig.defaults());
        String c = ClmrConfig.hash(ClmrConfig.load(null, List.of("run.seed=43")));
        assertEquals(a, b);
        assertNotEquals(a, c);
        assertEquals(64, a.length());
    }
}

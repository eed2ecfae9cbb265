package org.clmr.data;

import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.config.SettingsException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DataSettingsTest {

    @Test
    void shouldReadTheDocumentedDefaults() {
        DataSettings s = DataSettings.from(ClmrConfig.defaults());
        assertEquals(1.0, s.minSeconds());
        assertEquals("ffmpeg", s.ffmpeg());
        assertEquals(Duration.ofSeconds(5), s.progressInterval());
        assertFalse(s.concatSongs());
        assertEquals(30.0, s.generateSeconds());
        assertTrue(s.effectiveJobs() >= 1);
    }

    @Test
    void shouldNameTheKeyOfAValueOutOfRange() {
        SettingsException e = assertThrows(SettingsException.class,
                () -> DataSettings.from(ClmrConfig.load(null, List.of("data.pipeline.prefetch=0"))));
        assertTrue(e.getMessage().contains("clmr.data.pipeline.prefetch"), e.getMessage());
    }
}

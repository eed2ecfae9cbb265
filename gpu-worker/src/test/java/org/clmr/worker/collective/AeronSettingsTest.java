package org.clmr.worker.collective;

import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.config.SettingsException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AeronSettingsTest {
    @Test
    void shouldReadTheDocumentedDefaults() {
        AeronSettings s = AeronSettings.from(ClmrConfig.defaults());
        assertTrue(s.embeddedDriver());
        assertEquals(16 * 1024 * 1024, s.termLength());
        assertEquals(2 * 1024 * 1024, s.maxMessageLength());
        assertEquals(Duration.ofSeconds(30), s.opTimeout());
        assertEquals(64 * 1024, s.smallThreshold());
        assertEquals(65504, s.loopbackMtu());
        assertEquals(200, s.idleSpins());
        assertEquals(50, s.idleYields());
        assertEquals(0, AeronSettings.from(ClmrConfig.load(null, List.of("worker.aeron.idle-spins=0"))).idleSpins());
    }

    @Test
    void shouldNameTheKeyOfABadValue() {
        SettingsException mtu = assertThrows(SettingsException.class,
                () -> AeronSettings.from(ClmrConfig.load(null, List.of("worker.aeron.mtu=1500"))));
        assertTrue(mtu.getMessage().contains("clmr.worker.aeron.mtu"), mtu.getMessage());
        SettingsException term = assertThrows(SettingsException.class,
                () -> AeronSettings.from(ClmrConfig.load(null, List.of("worker.aeron.term-length=3m"))));
        assertTrue(term.getMessage().contains("power of two"), term.getMessage());
        SettingsException endpoint = assertThrows(SettingsException.class,
                () -> AeronSettings.from(ClmrConfig.load(null, List.of("worker.aeron.endpoint=\"localhost\""))));
        assertTrue(endpoint.getMessage().contains("clmr.worker.aeron.endpoint"), endpoint.getMessage());
    }

    @Test
    void shouldCapTheLargestMessageAtSixteenMebibytes() {
        AeronSettings s = AeronSettings.from(ClmrConfig.defaults()).withSizes(1 << 30, 1408);
        assertEquals(16 * 1024 * 1024, s.maxMessageLength());
    }

    @Test
    void shouldUseTheLoopbackMtuOnlyWhenEveryRankIsOnLoopback() {
        AeronSettings s = AeronSettings.from(ClmrConfig.defaults());
        assertEquals(65504, s.udpMtu(List.of("127.0.0.1:40500", "127.0.0.1:40501", "localhost:9", "[::1]:7")));
        assertEquals(1408, s.udpMtu(List.of("127.0.0.1:40500", "10.0.0.5:40500")));
        SettingsException bad = assertThrows(SettingsException.class,
                () -> AeronSettings.from(ClmrConfig.load(null, List.of("worker.aeron.loopback-mtu=1500"))));
        assertTrue(bad.getMessage().contains("clmr.worker.aeron.loopback-mtu"), bad.getMessage());
    }
}

package org.clmr.protocol.security;

import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.config.SettingsException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SecuritySettingsTest {
    private static SecuritySettings read(String... sets) {
        return SecuritySettings.from(ClmrConfig.load(null, List.of(sets)));
    }

    private static SettingsException refused(String... sets) {
        return assertThrows(SettingsException.class, () -> read(sets));
    }

    @Test
    void shouldDefaultToSecureWithNothingConfigured() {
        SecuritySettings s = read();
        assertFalse(s.insecure());
        assertFalse(s.protectReads());
        assertEquals(new TlsSettings.None(), s.tls());
        assertFalse(s.tls().configured());
        assertEquals(new TokenSource(Optional.empty(), "CLMR_CONTROL_TOKEN"), s.controlToken());
    }

    @Test
    void shouldReadAPemDirectoryAsAnAbsolutePath() {
        SecuritySettings s = read("security.tls.key-dir=keys/node", "security.tls.reload-after=1m", "security.insecure=on",
                "security.protect-reads=on", "security.control-token.file=token", "security.control-token.env=\"\"");
        assertEquals(new TlsSettings.PemDirectory(Path.of("keys/node").toAbsolutePath(), Duration.ofMinutes(1)), s.tls());
        assertTrue(s.insecure());
        assertTrue(s.protectReads());
        assertEquals(new TokenSource(Optional.of(Path.of("token").toAbsolutePath()), ""), s.controlToken());
    }

    @Test
    void shouldReadKeyStoresAndHoldTheirPasswordsOutOfSight() {
        SecuritySettings s = read("security.tls.key-store=/k/node.p12", "security.tls.trust-store=/k/trust.p12",
                "security.tls.key-store-password=hunter2", "security.tls.trust-store-password=swordfish");
        TlsSettings.KeyStores k = assertInstanceOf(TlsSettings.KeyStores.class, s.tls());
        assertEquals("hunter2", k.keyStorePassword().reveal());
        assertEquals("hunter2", k.keyPassword().reveal(), "an empty key-password is the store's");
        assertEquals("swordfish", k.trustStorePassword().reveal());
        assertFalse(s.toString().contains("hunter2") || s.toString().contains("swordfish"), s.toString());
        assertTrue(s.toString().contains(Redaction.REDACTED), s.toString());
    }

    @Test
    void shouldNameTheKeyOfEveryBadValue() {
        assertEquals("clmr.security.tls.key-dir",
                refused("security.tls.key-dir=/a", "security.tls.key-store=/b", "security.tls.trust-store=/c").key());
        assertEquals("clmr.security.tls.trust-store", refused("security.tls.key-store=/b").key());
        assertEquals("clmr.security.tls.key-store", refused("security.tls.trust-store=/c").key());
        assertEquals("clmr.security.tls.reload-after", refused("security.tls.reload-after=0s").key());
        assertEquals("clmr.security.control-token.env", refused("security.control-token.env=\"MY TOKEN\"").key());
        assertEquals("clmr.security.insecure", refused("security.insecure=maybe").key());
        SettingsException unknown = assertThrows(SettingsException.class,
                () -> ClmrConfig.load(null, List.of("security.token=abc")));
        assertEquals("clmr.security.token", unknown.key(), "the token is never a configuration value");
    }
}

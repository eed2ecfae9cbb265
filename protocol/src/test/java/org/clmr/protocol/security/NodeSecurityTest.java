package org.clmr.protocol.security;

import org.clmr.protocol.config.SettingsException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NodeSecurityTest {
    private static final String TOKEN = ControlToken.generate().authorization().substring("Bearer ".length());
    private static final Map<String, String> ENV = Map.of("CLMR_CONTROL_TOKEN", TOKEN);
    private static final TokenSource FROM_ENV = new TokenSource(Optional.empty(), "CLMR_CONTROL_TOKEN");
    private static final List<Binding> LOOPBACK = List.of(new Binding("clmr.coordinator.cluster.host", "127.0.0.1"),
            new Binding("clmr.coordinator.http.host", "localhost"), Binding.endpoint("clmr.worker.aeron.endpoint", "[::1]:40500"));
    private static final List<Binding> OPEN = List.of(new Binding("clmr.coordinator.cluster.host", "127.0.0.1"),
            new Binding("clmr.coordinator.http.host", "0.0.0.0"));

    @TempDir
    static Path dir;

    private static CertificateAuthority ca;
    private static TlsSettings.PemDirectory pem;

    @BeforeAll
    static void makeKeys() {
        ca = TestKeys.ca();
        pem = TestKeys.pemDir(TestKeys.node(ca, "10.0.0.7"), dir.resolve("node"));
    }

    private static NodeSecurity open(TlsSettings tls, boolean insecure, List<Binding> bindings, Map<String, String> env) {
        return NodeSecurity.open(new SecuritySettings(insecure, tls, FROM_ENV, false), bindings, env, Clock.systemUTC());
    }

    @Test
    void shouldStartAnOpenNodeOnLoopbackOnly() {
        NodeSecurity s = open(new TlsSettings.None(), false, LOOPBACK, Map.of());
        assertFalse(s.tls());
        assertEquals(Map.of(), s.akkaSettings());
        assertEquals(Optional.empty(), s.controlToken());
        assertEquals(List.of(), s.warnings());
    }

    @Test
    void shouldRefuseANonLoopbackNodeWithoutKeyMaterialNamingTheSetting() {
        SettingsException e = assertThrows(SettingsException.class, () -> open(new TlsSettings.None(), false, OPEN, ENV));
        assertEquals("clmr.security.tls.key-dir", e.key());
        assertTrue(e.getMessage().contains("clmr.coordinator.http.host = 0.0.0.0"), e.getMessage());
        assertTrue(e.getMessage().contains("clmr.security.insecure = on"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
        for (String host : List.of("10.0.0.7", "", "::", "no-such-host.invalid")) {
            assertThrows(SettingsException.class, () -> open(new TlsSettings.None(), false,
                    List.of(new Binding("clmr.worker.cluster.host", host)), ENV), host);
        }
    }

    @Test
    void shouldRefuseANonLoopbackNodeWithoutAToken() {
        SettingsException e = assertThrows(SettingsException.class, () -> open(pem, false, OPEN, Map.of()));
        assertEquals("clmr.security.control-token.file", e.key());
        assertTrue(e.getMessage().contains("no control token"), e.getMessage());
    }

    @Test
    void shouldStartASecuredNodeAnywhereWithMutualTls() {
        NodeSecurity s = open(pem, false, OPEN, ENV);
        assertTrue(s.tls());
        assertEquals("tls-tcp", s.akkaSettings().get("akka.remote.artery.transport"));
        assertEquals(pem.keyFile().toString(), s.akkaSettings().get("akka.remote.artery.ssl.rotating-keys-engine.key-file"));
        assertTrue(s.controlToken().orElseThrow().matches(TOKEN));
        assertTrue(s.sslContext().isPresent());
        assertEquals(List.of(), s.warnings());
        assertTrue(open(pem, false, LOOPBACK, Map.of()).tls(), "key material that is given is used on loopback too");
    }

    @Test
    void shouldStartAnInsecureNodeWithAWarningEveryTime() {
        NodeSecurity s = open(new TlsSettings.None(), true, OPEN, Map.of());
        assertEquals(1, s.warnings().size());
        assertTrue(s.warnings().get(0).startsWith("clmr.security.insecure = on"), s.warnings().get(0));
        assertEquals(Map.of(), s.akkaSettings());
        assertEquals(1, open(pem, true, LOOPBACK, ENV).warnings().size());
    }

    @Test
    void shouldRefuseProtectedReadsWithoutAToken() {
        SettingsException e = assertThrows(SettingsException.class, () -> NodeSecurity.open(
                new SecuritySettings(false, new TlsSettings.None(), FROM_ENV, true), LOOPBACK, Map.of(), Clock.systemUTC()));
        assertEquals("clmr.security.protect-reads", e.key());
    }

    @Test
    void shouldRefuseBadKeyMaterialAtStartNamingTheSetting() throws Exception {
        Path mixed = dir.resolve("mixed");
        TestKeys.node(ca, "127.0.0.1").write(mixed, false);
        Files.copy(dir.resolve("node/tls.key"), mixed.resolve("tls.key"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertRefused(new TlsSettings.PemDirectory(mixed, Duration.ofMinutes(5)), "is not the key of", Clock.systemUTC());

        Path foreignCa = dir.resolve("foreign-ca");
        TestKeys.node(ca, "127.0.0.1").write(foreignCa, false);
        Files.write(foreignCa.resolve("ca.crt"), Pem.encode(TestKeys.ca().certificate()));
        assertRefused(new TlsSettings.PemDirectory(foreignCa, Duration.ofMinutes(5)), "was not issued by the CA", Clock.systemUTC());

        Clock inTwoYears = Clock.fixed(Instant.now().plus(Duration.ofDays(730)), ZoneOffset.UTC);
        assertRefused(pem, "expired at", inTwoYears);
        assertRefused(new TlsSettings.PemDirectory(dir.resolve("absent"), Duration.ofMinutes(5)), "is not a directory", Clock.systemUTC());
    }

    @Test
    void shouldRefuseKeyStoresThatDoNotOpenNamingTheSettingButNotThePassword() throws Exception {
        TlsSettings.KeyStores good = TestKeys.keyStores(TestKeys.node(ca, "127.0.0.1"), dir.resolve("stores"), "right-password");
        assertTrue(NodeKeyMaterial.load(good, Clock.systemUTC()).certificate() != null);
        TlsSettings.KeyStores wrong = new TlsSettings.KeyStores(good.keyStore(), Secret.of("wrong-password"),
                Secret.of("wrong-password"), good.trustStore(), good.trustStorePassword());
        SettingsException e = assertThrows(SettingsException.class, () -> NodeKeyMaterial.load(wrong, Clock.systemUTC()));
        assertEquals("clmr.security.tls.key-store", e.key());
        assertFalse(e.getMessage().contains("wrong-password") || e.getMessage().contains("right-password"), e.getMessage());
        TlsSettings.KeyStores empty = TestKeys.trustOnly(ca, dir.resolve("empty"), "pw-pw-pw");
        assertTrue(assertThrows(SettingsException.class, () -> NodeKeyMaterial.load(empty, Clock.systemUTC()))
                .getMessage().contains("holds no private key entry"));
    }

    @Test
    void shouldTellLoopbackFromOtherAddresses() {
        assertTrue(new Binding("k", "127.0.0.1").loopback());
        assertTrue(new Binding("k", "::1").loopback());
        assertTrue(new Binding("k", "localhost").loopback());
        assertFalse(new Binding("k", "0.0.0.0").loopback());
        assertFalse(new Binding("k", "").loopback());
        assertFalse(new Binding("k", "10.0.0.7").loopback());
        assertEquals(new Binding("k", "10.0.0.7"), Binding.endpoint("k", "10.0.0.7:40500"));
        assertEquals(new Binding("k", "::1"), Binding.endpoint("k", "[::1]:40500"));
        assertEquals(new Binding("k", "fe80::1"), Binding.endpoint("k", "fe80::1"));
        assertEquals(new Binding("k", "host"), Binding.endpoint("k", "host"));
    }

    private static void assertRefused(TlsSettings tls, String why, Clock clock) {
        SettingsException e = assertThrows(SettingsException.class, () -> NodeSecurity.open(
                new SecuritySettings(false, tls, FROM_ENV, false), LOOPBACK, ENV, clock));
        assertEquals("clmr.security.tls.key-dir", e.key());
        assertTrue(e.getMessage().contains(why), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }
}

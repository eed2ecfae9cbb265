package org.clmr.protocol.security;

import org.clmr.protocol.config.ClmrConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ThrowawayKeysTest {
    @TempDir
    Path dir;

    @Test
    void shouldMakeOwnerOnlyKeysAndATokenThatASecuredNodeStartsWith() throws Exception {
        Path runDir = dir.resolve("run");
        ThrowawayKeys keys = ThrowawayKeys.inRunDir(runDir);
        assertEquals("rwx------", mode(runDir));
        assertEquals("rwx------", mode(keys.dir()));
        assertEquals("rwx------", mode(keys.keyDir()));
        assertEquals("rw-------", mode(keys.keyDir().resolve("tls.key")));
        assertEquals("rw-------", mode(keys.tokenFile()));
        assertFalse(Files.exists(keys.dir().resolve(CertificateAuthority.KEY_FILE)), "the CA's key is never written");

        SecuritySettings settings = SecuritySettings.from(ClmrConfig.load(null, keys.settingOverrides()));
        assertEquals(keys.keyDir(), ((TlsSettings.PemDirectory) settings.tls()).dir());
        assertEquals(SecuritySettings.from(keys.config().withFallback(ClmrConfig.defaults())).tls(), settings.tls());
        NodeSecurity node = NodeSecurity.open(settings, List.of(new Binding("clmr.coordinator.cluster.host", "127.0.0.1")),
                Map.of(), Clock.systemUTC());
        assertTrue(node.tls());
        assertTrue(node.controlToken().orElseThrow().check(keys.token().authorization()).granted());
        assertEquals(List.of("127.0.0.1", "0:0:0:0:0:0:0:1", "localhost"), node.keyMaterial().orElseThrow().certificate()
                .getSubjectAlternativeNames().stream().map(l -> (String) l.get(1)).toList());
        javax.net.ssl.SSLContext shared = node.sslContext().orElseThrow();
        assertEquals("CN=" + NodeCertificate.COMMON_NAME, MutualTlsHandshakeTest.exchange(shared, shared),
                "every process of the local cluster authenticates every other with the one shared certificate");
    }

    @Test
    void shouldReuseValidKeysAndReplaceDamagedOrExpiringOnes() throws Exception {
        ThrowawayKeys first = ThrowawayKeys.inRunDir(dir);
        byte[] cert = Files.readAllBytes(first.keyDir().resolve("tls.crt"));
        String token = Files.readString(first.tokenFile());
        ThrowawayKeys.inRunDir(dir);
        assertArrayEquals(cert, Files.readAllBytes(first.keyDir().resolve("tls.crt")), "a launcher started again keeps its keys");
        assertEquals(token, Files.readString(first.tokenFile()));

        Files.writeString(first.tokenFile(), "short\n");
        ThrowawayKeys.inRunDir(dir);
        assertFalse(Files.readString(first.tokenFile()).equals("short\n"), "a damaged token is made anew");

        byte[] before = Files.readAllBytes(first.keyDir().resolve("tls.crt"));
        Clock nearExpiry = Clock.fixed(Instant.now().plus(ThrowawayKeys.VALIDITY).minus(Duration.ofHours(1)), ZoneOffset.UTC);
        ThrowawayKeys.inRunDir(dir, nearExpiry);
        assertFalse(java.util.Arrays.equals(before, Files.readAllBytes(first.keyDir().resolve("tls.crt"))),
                "a certificate that expires within a day is made anew");
    }

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }
}

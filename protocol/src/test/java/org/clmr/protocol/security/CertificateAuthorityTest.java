package org.clmr.protocol.security;

import org.clmr.protocol.UserError;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CertificateAuthorityTest {
    @TempDir
    Path dir;

    private static CertificateAuthority ca;
    private static NodeCertificate node;

    @BeforeAll
    static void makeKeys() {
        ca = TestKeys.ca();
        node = TestKeys.node(ca, "10.0.0.7", "worker-1.clmr.svc", "::1");
    }

    @Test
    void shouldMakeACaThatSignsNodeCertificatesOnly() {
        X509Certificate c = ca.certificate();
        assertEquals(0, c.getBasicConstraints(), "a CA of path length 0");
        assertTrue(c.getKeyUsage()[5], "keyCertSign");
        assertTrue(c.getSubjectX500Principal().getName().startsWith("CN=clmr run CA "), c.getSubjectX500Principal().getName());
        assertEquals(c.getSubjectX500Principal(), c.getIssuerX500Principal(), "self-signed");
    }

    @Test
    void shouldIssueANodeCertificateForServerAndClientWithEveryHostAsASubjectAlternativeName() throws Exception {
        X509Certificate c = node.certificate();
        assertEquals(-1, c.getBasicConstraints(), "not a CA");
        assertEquals(List.of("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"), c.getExtendedKeyUsage(), "serverAuth and clientAuth");
        Set<String> sans = c.getSubjectAlternativeNames().stream().map(l -> l.get(0) + "=" + l.get(1)).collect(Collectors.toSet());
        assertEquals(Set.of("7=10.0.0.7", "2=worker-1.clmr.svc", "7=0:0:0:0:0:0:0:1"), sans);
        assertEquals("CN=" + NodeCertificate.COMMON_NAME, c.getSubjectX500Principal().getName());
        assertEquals(ca.certificate().getSubjectX500Principal(), c.getIssuerX500Principal());
        assertEquals("RSA", node.key().getAlgorithm());
        assertTrue(CertificateAuthority.matches(node.key(), c.getPublicKey()));
        PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(ca.certificate(), null)));
        params.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX").validate(
                CertificateFactory.getInstance("X.509").generateCertPath(List.of(c)), params);
    }

    @Test
    void shouldNeverIssueBeyondTheCasOwnValidity() {
        X509Certificate c = ca.issue(List.of("127.0.0.1"), Duration.ofDays(10 * 365), 2048, Clock.systemUTC()).certificate();
        assertEquals(ca.certificate().getNotAfter(), c.getNotAfter());
    }

    @Test
    void shouldWriteKeysOwnerOnlyInAnOwnerOnlyDirectoryAndReadThemBack() throws Exception {
        Path caDir = dir.resolve("new/ca");
        ca.write(caDir, false);
        assertEquals("rwx------", mode(caDir));
        assertEquals("rwx------", mode(caDir.getParent()), "missing parents are made 0700 too");
        assertEquals("rw-------", mode(caDir.resolve(CertificateAuthority.KEY_FILE)));
        assertEquals("rw-r--r--", mode(caDir.resolve(CertificateAuthority.CERT_FILE)));
        CertificateAuthority back = CertificateAuthority.read(caDir);
        assertArrayEquals(ca.certificate().getEncoded(), back.certificate().getEncoded());
        back.issue(List.of("127.0.0.1"), Duration.ofDays(1), 2048, Clock.systemUTC()).certificate()
                .verify(ca.certificate().getPublicKey());

        Path nodeDir = dir.resolve("node");
        node.write(nodeDir, false);
        assertEquals("rwx------", mode(nodeDir));
        assertEquals("rw-------", mode(nodeDir.resolve(NodeCertificate.KEY_FILE)));
        assertTrue(Files.readString(nodeDir.resolve(NodeCertificate.KEY_FILE)).startsWith("-----BEGIN PRIVATE KEY-----"));
        try (var s = Files.list(nodeDir)) {
            assertEquals(Set.of("tls.key", "tls.crt", "ca.crt"), s.map(p -> p.getFileName().toString()).collect(Collectors.toSet()),
                    "no temporary file is left behind");
        }
    }

    @Test
    void shouldRefuseToReplaceKeysWithoutForceInOneLine() {
        ca.write(dir, false);
        UserError e = assertThrows(UserError.class, () -> TestKeys.ca().write(dir, false));
        assertTrue(e.getMessage().contains("ca.key exists; give --force"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
        TestKeys.ca().write(dir, true);
        assertFalse(java.util.Arrays.equals(ca.certificate().getSignature(), CertificateAuthority.read(dir).certificate().getSignature()));
    }

    @Test
    void shouldRefuseADirectoryWithoutACaInOneLine() throws Exception {
        UserError missing = assertThrows(UserError.class, () -> CertificateAuthority.read(dir));
        assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
        node.write(dir, false);
        Files.copy(dir.resolve("tls.crt"), dir.resolve("ca.crt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.copy(dir.resolve("tls.key"), dir.resolve("ca.key"));
        UserError notCa = assertThrows(UserError.class, () -> CertificateAuthority.read(dir));
        assertTrue(notCa.getMessage().contains("not a CA certificate"), notCa.getMessage());
        Files.writeString(dir.resolve("ca.key"), "not pem at all");
        UserError garbage = assertThrows(UserError.class, () -> CertificateAuthority.read(dir));
        assertTrue(garbage.getMessage().contains("not a PEM private key"), garbage.getMessage());
        for (UserError e : List.of(missing, notCa, garbage)) {
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        }
    }

    @Test
    void shouldRefuseAKeyThatIsNotTheCertificates() {
        ca.write(dir, false);
        NodeCertificate other = TestKeys.node(TestKeys.ca(), "127.0.0.1");
        PrivateFiles.writePrivate(dir.resolve(CertificateAuthority.KEY_FILE), Pem.encode(other.key()));
        UserError e = assertThrows(UserError.class, () -> CertificateAuthority.read(dir));
        assertTrue(e.getMessage().contains("ca.key is not the key of ca.crt"), e.getMessage());
    }

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }
}

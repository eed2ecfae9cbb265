package org.clmr.protocol.security;

import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/** Key material for the tests, made by the code under test (RSA 2048 to keep them quick). */
final class TestKeys {
    static final Clock CLOCK = Clock.systemUTC();
    static final Duration YEAR = Duration.ofDays(365);

    private TestKeys() {
    }

    static CertificateAuthority ca() {
        return CertificateAuthority.create(YEAR, 2048, CLOCK);
    }

    static NodeCertificate node(CertificateAuthority ca, String... hosts) {
        return ca.issue(List.of(hosts), YEAR, 2048, CLOCK);
    }

    /** A PEM key directory, as `clmr keys node --out DIR` writes it. */
    static TlsSettings.PemDirectory pemDir(NodeCertificate node, Path dir) {
        node.write(dir, false);
        return new TlsSettings.PemDirectory(dir.toAbsolutePath(), Duration.ofMinutes(5));
    }

    /** A PKCS12 key store with the node's key and chain, and a trust store with its CA (the key-store mode). */
    static TlsSettings.KeyStores keyStores(NodeCertificate node, Path dir, String password) throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("node", node.key(), password.toCharArray(), new Certificate[] {node.certificate(), node.ca()});
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("run-ca", node.ca());
        return stores(keys, trust, dir, password);
    }

    /** Key stores whose key store holds no key at all: a client that trusts the run CA but has no certificate. */
    static TlsSettings.KeyStores trustOnly(CertificateAuthority ca, Path dir, String password) throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("run-ca", ca.certificate());
        return stores(keys, trust, dir, password);
    }

    private static TlsSettings.KeyStores stores(KeyStore keys, KeyStore trust, Path dir, String password) throws Exception {
        java.nio.file.Files.createDirectories(dir);
        Path k = dir.resolve("node.p12");
        Path t = dir.resolve("trust.p12");
        try (var out = java.nio.file.Files.newOutputStream(k)) {
            keys.store(out, password.toCharArray());
        }
        try (var out = java.nio.file.Files.newOutputStream(t)) {
            trust.store(out, password.toCharArray());
        }
        Secret p = Secret.of(password);
        return new TlsSettings.KeyStores(k.toAbsolutePath(), p, p, t.toAbsolutePath(), p);
    }
}

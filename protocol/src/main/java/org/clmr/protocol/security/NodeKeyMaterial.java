package org.clmr.protocol.security;

import org.clmr.protocol.config.SettingsException;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Collections;
import java.util.Date;

/**
 * A node's TLS key material, loaded and checked at start, before Akka reads it lazily at the first connection
 * (where a bad file would only show as refused handshakes): the files exist and parse, the key belongs to the
 * certificate, the certificate is valid now and was issued by the CA (PEM), or the stores open with their
 * passwords and hold a key entry and a trusted certificate. Every failure is one line naming the setting. Also
 * builds the JDK {@link SSLContext} for the HTTP side and for clients (mutual TLS with the same material).
 * Immutable; any thread.
 */
public final class NodeKeyMaterial {
    private final KeyStore keys;
    private final char[] keyPassword;
    private final KeyStore trust;
    private final X509Certificate certificate;

    private NodeKeyMaterial(KeyStore keys, char[] keyPassword, KeyStore trust, X509Certificate certificate) {
        this.keys = keys;
        this.keyPassword = keyPassword;
        this.trust = trust;
        this.certificate = certificate;
    }

    /**
     * Loads and checks the configured material.
     *
     * @param tls PEM directory or key stores (not {@link TlsSettings.None})
     * @throws SettingsException naming the setting, with what is wrong and how to fix it
     */
    public static NodeKeyMaterial load(TlsSettings tls, Clock clock) {
        if (tls instanceof TlsSettings.PemDirectory) {
            return loadPem((TlsSettings.PemDirectory) tls, clock);
        }
        if (tls instanceof TlsSettings.KeyStores) {
            return loadStores((TlsSettings.KeyStores) tls, clock);
        }
        throw new IllegalArgumentException("no TLS key material is configured");
    }

    private static NodeKeyMaterial loadPem(TlsSettings.PemDirectory pem, Clock clock) {
        String key = TlsSettings.PemDirectory.KEY;
        if (!Files.isDirectory(pem.dir())) {
            throw new SettingsException(key, pem.dir(), "is not a directory; give the directory `clmr keys node --out DIR`"
                    + " wrote (tls.key, tls.crt, ca.crt)");
        }
        PrivateKey privateKey;
        X509Certificate cert;
        X509Certificate ca;
        try {
            privateKey = Pem.readPrivateKey(pem.keyFile());
            cert = Pem.readCertificate(pem.certFile());
            ca = Pem.readCertificate(pem.caFile());
        } catch (Pem.PemException e) {
            throw new SettingsException(key, e.getMessage() + "; write the node's key material again with `clmr keys node`");
        }
        if (!"RSA".equals(privateKey.getAlgorithm())) {
            throw new SettingsException(key, pem.keyFile() + " is an " + privateKey.getAlgorithm() + " key; Akka 2.6 reads"
                    + " RSA keys only (cert-manager: privateKey.algorithm: RSA; or `clmr keys node`)");
        }
        if (!CertificateAuthority.matches(privateKey, cert.getPublicKey())) {
            throw new SettingsException(key, pem.keyFile() + " is not the key of " + pem.certFile()
                    + "; write both again with `clmr keys node --force`");
        }
        checkValid(key, pem.certFile() + "'s certificate", cert, clock);
        checkValid(key, pem.caFile() + "'s CA certificate", ca, clock);
        try {
            cert.verify(ca.getPublicKey());
        } catch (GeneralSecurityException e) {
            throw new SettingsException(key, pem.certFile() + " was not issued by the CA in " + pem.caFile()
                    + " (Akka needs the node certificate issued directly by the run CA); issue it with `clmr keys node --ca CA_DIR`");
        }
        char[] password = new char[0];
        KeyStore keys = emptyStore();
        KeyStore trust = emptyStore();
        try {
            keys.setKeyEntry("node", privateKey, password, new Certificate[] {cert, ca});
            trust.setCertificateEntry("run-ca", ca);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot hold a key in an in-memory key store: " + e.getMessage(), e);
        }
        return new NodeKeyMaterial(keys, password, trust, cert);
    }

    private static NodeKeyMaterial loadStores(TlsSettings.KeyStores s, Clock clock) {
        KeyStore keys = open(s.keyStore(), s.keyStorePassword(), TlsSettings.KeyStores.KEY);
        KeyStore trust = open(s.trustStore(), s.trustStorePassword(), TlsSettings.KeyStores.TRUST_KEY);
        X509Certificate cert;
        try {
            String alias = Collections.list(keys.aliases()).stream().filter(a -> isKeyEntry(keys, a)).findFirst()
                    .orElseThrow(() -> new SettingsException(TlsSettings.KeyStores.KEY, s.keyStore()
                            + " holds no private key entry; put this node's key and certificate chain in it"));
            keys.getKey(alias, s.keyPassword().toCharArray());
            cert = (X509Certificate) keys.getCertificate(alias);
            if (Collections.list(trust.aliases()).stream().noneMatch(a -> isCertificateEntry(trust, a))) {
                throw new SettingsException(TlsSettings.KeyStores.TRUST_KEY, s.trustStore()
                        + " holds no trusted certificate; put the run CA's certificate in it");
            }
        } catch (java.security.UnrecoverableKeyException e) {
            throw new SettingsException(SecuritySettings.PREFIX + ".tls.key-password", "the key in " + s.keyStore()
                    + " cannot be opened with this password; set the key entry's password (or leave it empty for the store's)");
        } catch (GeneralSecurityException e) {
            throw new SettingsException(TlsSettings.KeyStores.KEY, s.keyStore() + " cannot be read: " + e.getMessage());
        }
        checkValid(TlsSettings.KeyStores.KEY, s.keyStore() + "'s node certificate", cert, clock);
        return new NodeKeyMaterial(keys, s.keyPassword().toCharArray(), trust, cert);
    }

    /**
     * A TLS context with this node's key (server and client side) that trusts the run CA only. A server made from
     * it should require client certificates ({@code SSLParameters.setNeedClientAuth(true)}) for mutual TLS.
     */
    public SSLContext sslContext() {
        try {
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, keyPassword);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot build a TLS context from checked key material: " + e.getMessage(), e);
        }
    }

    /** This node's certificate. */
    public X509Certificate certificate() {
        return certificate;
    }

    private static void checkValid(String key, String what, X509Certificate cert, Clock clock) {
        try {
            cert.checkValidity(Date.from(clock.instant()));
        } catch (CertificateExpiredException e) {
            throw new SettingsException(key, what + " expired at " + cert.getNotAfter().toInstant()
                    + "; issue a new one (`clmr keys node`, or renew it in cert-manager)");
        } catch (CertificateNotYetValidException e) {
            throw new SettingsException(key, what + " is valid only from " + cert.getNotBefore().toInstant()
                    + "; check this host's clock");
        }
    }

    private static KeyStore open(Path file, Secret password, String key) {
        if (!Files.isRegularFile(file)) {
            throw new SettingsException(key, file, "is not a file; give a PKCS12 or JKS key store");
        }
        try {
            return KeyStore.getInstance(file.toFile(), password.toCharArray());
        } catch (IOException e) {
            // a wrong password shows as an IOException whose cause is UnrecoverableKeyException
            throw new SettingsException(key, file + " cannot be opened: " + e.getMessage()
                    + "; check the file and its password (" + key + "-password)");
        } catch (GeneralSecurityException e) {
            throw new SettingsException(key, file + " is not a key store the JDK reads: " + e.getMessage());
        }
    }

    private static KeyStore emptyStore() {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            return ks;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("this JDK has no PKCS12 key store: " + e.getMessage(), e);
        }
    }

    // KeyStore's entry queries throw only for a store that was never loaded; ours are loaded by open()
    private static boolean isKeyEntry(KeyStore ks, String alias) {
        try {
            return ks.isKeyEntry(alias);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static boolean isCertificateEntry(KeyStore ks, String alias) {
        try {
            return ks.isCertificateEntry(alias);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}

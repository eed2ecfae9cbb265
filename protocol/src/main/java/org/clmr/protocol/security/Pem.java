package org.clmr.protocol.security;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;

/**
 * PEM files through Bouncy Castle: certificates ({@code CERTIFICATE}) and unencrypted private keys, written as
 * PKCS#8 ({@code PRIVATE KEY}) and read as PKCS#8 or PKCS#1 ({@code RSA PRIVATE KEY}, what cert-manager writes by
 * default). Failures are {@link PemException}s with a one-line reason; callers add which setting or option named
 * the file. Stateless; any thread.
 */
final class Pem {
    private Pem() {
    }

    /** A PEM file that is missing, unreadable or not what was expected. */
    static final class PemException extends Exception {
        PemException(String message) {
            super(message);
        }
    }

    static byte[] encode(X509Certificate certificate) {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(certificate);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode a certificate as PEM", e);
        }
        return text.toString().getBytes(StandardCharsets.US_ASCII);
    }

    static byte[] encode(PrivateKey key) {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(new JcaPKCS8Generator(key, null));
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode a " + key.getAlgorithm() + " key as PKCS#8 PEM", e);
        }
        return text.toString().getBytes(StandardCharsets.US_ASCII);
    }

    static X509Certificate readCertificate(Path file) throws PemException {
        Object o = readObject(file);
        if (!(o instanceof X509CertificateHolder)) {
            throw new PemException(file + " holds " + describe(o) + ", not a PEM certificate (BEGIN CERTIFICATE)");
        }
        try {
            return new JcaX509CertificateConverter().getCertificate((X509CertificateHolder) o);
        } catch (CertificateException e) {
            throw new PemException(file + " holds a certificate the JDK cannot read: " + e.getMessage());
        }
    }

    static PrivateKey readPrivateKey(Path file) throws PemException {
        Object o = readObject(file);
        try {
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            if (o instanceof PrivateKeyInfo) {
                return converter.getPrivateKey((PrivateKeyInfo) o);
            }
            if (o instanceof PEMKeyPair) {
                return converter.getKeyPair((PEMKeyPair) o).getPrivate();
            }
        } catch (org.bouncycastle.openssl.PEMException e) {
            throw new PemException(file + " holds a private key the JDK cannot read: " + e.getMessage());
        }
        if (o instanceof PKCS8EncryptedPrivateKeyInfo || o instanceof PEMEncryptedKeyPair) {
            throw new PemException(file + " holds an encrypted private key; Akka reads unencrypted ones only"
                    + " (protect it with its file mode 0600 and its directory instead)");
        }
        throw new PemException(file + " holds " + describe(o) + ", not a PEM private key (BEGIN PRIVATE KEY)");
    }

    private static Object readObject(Path file) throws PemException {
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
             PEMParser parser = new PEMParser(reader)) {
            return parser.readObject();
        } catch (NoSuchFileException e) {
            throw new PemException(file + " does not exist");
        } catch (AccessDeniedException e) {
            throw new PemException(file + " cannot be read: permission denied (run as its owner)");
        } catch (IOException | RuntimeException e) {
            // PEMParser reports damaged base64 or DER as runtime exceptions of several kinds
            throw new PemException(file + " cannot be read as PEM: " + e.getMessage());
        }
    }

    private static String describe(Object o) {
        return o == null ? "no PEM block" : "a " + o.getClass().getSimpleName();
    }
}

package org.clmr.protocol.security;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.clmr.protocol.UserError;

import java.math.BigInteger;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;

/**
 * A run's certificate authority: an RSA key and a self-signed CA certificate (path length 0: it signs node
 * certificates only), kept as {@value #KEY_FILE} (0600) and {@value #CERT_FILE} in a directory of mode 0700. It
 * issues node certificates for mutual TLS: usable as TLS server and client, subject {@code CN=clmr-node}, with
 * the node's host names and IP addresses as subject alternative names. X.509 is built by Bouncy Castle. Keys are
 * RSA because Akka 2.6's PEM reader (akka-pki) reads no other kind. Immutable; any thread.
 */
public final class CertificateAuthority {
    /** The CA's private key file. */
    public static final String KEY_FILE = "ca.key";
    /** The CA's certificate file. */
    public static final String CERT_FILE = "ca.crt";
    /** RSA modulus of keys made by {@code clmr keys}: 3072 bits, good beyond 2030 (NIST SP 800-57). */
    public static final int RSA_BITS = 3072;
    /** Certificates start this long before they are made, so that a peer whose clock is behind accepts them. */
    private static final Duration CLOCK_SKEW = Duration.ofMinutes(5);
    private static final String SIGNATURE = "SHA256withRSA";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final PrivateKey key;
    private final X509Certificate certificate;

    private CertificateAuthority(PrivateKey key, X509Certificate certificate) {
        this.key = key;
        this.certificate = certificate;
    }

    /**
     * Makes a new CA: a fresh RSA key and a self-signed certificate named {@code clmr run CA <random id>}, so
     * that two runs' CAs are told apart in trust stores and error messages.
     *
     * @param validity how long the CA certificate (and so every certificate it issues) is valid
     * @param rsaBits  the key's modulus length ({@link #RSA_BITS}; throw-away keys use 2048)
     */
    public static CertificateAuthority create(Duration validity, int rsaBits, Clock clock) {
        KeyPair keys = rsaKeyPair(rsaBits);
        byte[] id = new byte[8];
        RANDOM.nextBytes(id);
        X500Name name = new X500NameBuilder(BCStyle.INSTANCE)
                .addRDN(BCStyle.CN, "clmr run CA " + HexFormat.of().formatHex(id)).build();
        Instant now = clock.instant();
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = builder(name, name, now, now.plus(validity), keys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
            return new CertificateAuthority(keys.getPrivate(), sign(b, keys.getPrivate()));
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException("cannot build a CA certificate: " + e.getMessage(), e);
        }
    }

    /**
     * Reads a CA written by {@link #write}.
     *
     * @throws UserError with one line when a file is missing or unreadable, or the key does not belong to the
     *                   certificate, or the certificate is not a CA's
     */
    public static CertificateAuthority read(Path dir) {
        X509Certificate cert;
        PrivateKey key;
        try {
            cert = Pem.readCertificate(dir.resolve(CERT_FILE));
            key = Pem.readPrivateKey(dir.resolve(KEY_FILE));
        } catch (Pem.PemException e) {
            throw new UserError("cannot read the run CA in " + dir + ": " + e.getMessage()
                    + "; give the directory that `clmr keys init --out DIR` wrote");
        }
        if (cert.getBasicConstraints() < 0) {
            throw new UserError("cannot use " + dir.resolve(CERT_FILE) + " as the run CA: it is not a CA certificate"
                    + " (no basic constraints CA:true); give the directory that `clmr keys init --out DIR` wrote");
        }
        if (!matches(key, cert.getPublicKey())) {
            throw new UserError("cannot use the run CA in " + dir + ": " + KEY_FILE + " is not the key of " + CERT_FILE
                    + "; write both again with `clmr keys init --out DIR --force`");
        }
        return new CertificateAuthority(key, cert);
    }

    /** The files {@link #write} creates in {@code dir}. */
    public static List<Path> files(Path dir) {
        return List.of(dir.resolve(KEY_FILE), dir.resolve(CERT_FILE));
    }

    /**
     * Refuses, with one line, a directory that holds a CA already unless {@code force} is on (a command checks
     * this before it spends seconds on a key).
     */
    public static void refuseExisting(Path dir, boolean force) {
        PrivateFiles.refuseExisting(files(dir), force,
                "every node certificate the old CA issued stops being trusted by nodes given the new one");
    }

    /**
     * Writes {@value #KEY_FILE} (0600) and {@value #CERT_FILE}; the directory is created 0700 if missing.
     *
     * @throws UserError when a file exists and {@code force} is off, or on a write failure
     */
    public void write(Path dir, boolean force) {
        refuseExisting(dir, force);
        PrivateFiles.createDirectory(dir);
        PrivateFiles.writePrivate(dir.resolve(KEY_FILE), Pem.encode(key));
        PrivateFiles.writePublic(dir.resolve(CERT_FILE), Pem.encode(certificate));
    }

    /**
     * Issues a node certificate with a fresh RSA key: subject {@code CN=clmr-node}, the hosts as subject
     * alternative names (IP addresses as such, others as DNS names), extended key usage TLS server and client
     * (every node is both, for mutual authentication), valid for {@code validity} but never beyond the CA.
     *
     * @param hosts    host names and IP addresses peers and clients reach the node at (checked by
     *                 {@link Hosts#normalize}); at least one
     * @param validity how long the certificate is valid
     */
    public NodeCertificate issue(List<String> hosts, Duration validity, int rsaBits, Clock clock) {
        if (hosts.isEmpty()) {
            throw new IllegalArgumentException("a node certificate needs at least one host");
        }
        GeneralName[] names = hosts.stream().map(Hosts::normalize).distinct()
                .map(h -> new GeneralName(Hosts.isIpAddress(h) ? GeneralName.iPAddress : GeneralName.dNSName, h))
                .toArray(GeneralName[]::new);
        KeyPair keys = rsaKeyPair(rsaBits);
        Instant now = clock.instant();
        Instant until = now.plus(validity);
        if (until.isAfter(certificate.getNotAfter().toInstant())) {
            until = certificate.getNotAfter().toInstant();
        }
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, NodeCertificate.COMMON_NAME).build();
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = builder(X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded()),
                    subject, now, until, keys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                            new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
                    .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()))
                    .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(certificate));
            return new NodeCertificate(keys.getPrivate(), sign(b, key), certificate);
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException("cannot build a node certificate: " + e.getMessage(), e);
        }
    }

    /** The CA's certificate (what every node trusts). */
    public X509Certificate certificate() {
        return certificate;
    }

    /** Never the key: the CA's subject and validity. */
    @Override
    public String toString() {
        return "CertificateAuthority[" + certificate.getSubjectX500Principal() + ", until "
                + certificate.getNotAfter().toInstant() + "]";
    }

    /** Whether an RSA private key belongs to the public key (same modulus and exponent). */
    static boolean matches(PrivateKey key, PublicKey pub) {
        return key instanceof RSAPrivateCrtKey && pub instanceof RSAPublicKey
                && ((RSAPrivateCrtKey) key).getModulus().equals(((RSAPublicKey) pub).getModulus())
                && ((RSAPrivateCrtKey) key).getPublicExponent().equals(((RSAPublicKey) pub).getPublicExponent());
    }

    private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, Instant from, Instant until,
                                                    PublicKey pub) {
        // 159 random bits: positive, unpredictable, within the 20 octets RFC 5280 allows
        BigInteger serial = new BigInteger(159, RANDOM).add(BigInteger.ONE);
        return new JcaX509v3CertificateBuilder(issuer, serial, Date.from(from.minus(CLOCK_SKEW)), Date.from(until),
                subject, pub);
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey signer) throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder(SIGNATURE).build(signer)));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException("no " + SIGNATURE + " signer: " + e.getMessage(), e);
        }
    }

    private static KeyPair rsaKeyPair(int bits) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(bits, RANDOM);
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK cannot make RSA keys: " + e.getMessage(), e);
        }
    }
}

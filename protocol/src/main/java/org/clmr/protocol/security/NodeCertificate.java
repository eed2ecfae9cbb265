package org.clmr.protocol.security;

import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * A node's key material as one directory holds it, in the layout of a Kubernetes TLS Secret written by
 * cert-manager, which Akka's rotating-keys engine reads: {@value #KEY_FILE} (the private key, PKCS#8 PEM, 0600),
 * {@value #CERT_FILE} (the node's certificate) and {@value #CA_FILE} (the run CA's certificate). Immutable.
 *
 * @param key         the node's private key (RSA: Akka 2.6's PEM reader takes no other)
 * @param certificate the node's certificate, issued by {@code ca}
 * @param ca          the run CA's certificate
 */
public record NodeCertificate(PrivateKey key, X509Certificate certificate, X509Certificate ca) {
    /** The private key's file name. */
    public static final String KEY_FILE = "tls.key";
    /** The node certificate's file name. */
    public static final String CERT_FILE = "tls.crt";
    /** The CA certificate's file name. */
    public static final String CA_FILE = "ca.crt";
    /**
     * The common name of every node certificate. Akka's rotating-keys engine accepts a peer only when the two
     * certificates share a subject name (common name or DNS name), so every node of a cluster must carry it; a
     * cert-manager {@code Certificate} for a clmr node sets {@code commonName: clmr-node}.
     */
    public static final String COMMON_NAME = "clmr-node";

    /** The files {@link #write} creates in {@code dir}. */
    public static List<Path> files(Path dir) {
        return List.of(dir.resolve(KEY_FILE), dir.resolve(CERT_FILE), dir.resolve(CA_FILE));
    }

    /** Refuses, with one line, a directory that holds a node's key material already unless {@code force} is on. */
    public static void refuseExisting(Path dir, boolean force) {
        PrivateFiles.refuseExisting(files(dir), force, "the node's current key and certificate are lost");
    }

    /**
     * Writes the three files (the directory 0700 if it is created, the key 0600).
     *
     * @throws org.clmr.protocol.UserError when one of them exists and {@code force} is off, or on a write failure
     */
    public void write(Path dir, boolean force) {
        refuseExisting(dir, force);
        PrivateFiles.createDirectory(dir);
        PrivateFiles.writePrivate(dir.resolve(KEY_FILE), Pem.encode(key));
        PrivateFiles.writePublic(dir.resolve(CERT_FILE), Pem.encode(certificate));
        PrivateFiles.writePublic(dir.resolve(CA_FILE), Pem.encode(ca));
    }

    /** Never the key: the certificate's subject and validity. */
    @Override
    public String toString() {
        return "NodeCertificate[" + certificate.getSubjectX500Principal() + ", until " + certificate.getNotAfter().toInstant() + "]";
    }
}

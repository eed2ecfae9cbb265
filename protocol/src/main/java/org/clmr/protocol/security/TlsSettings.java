package org.clmr.protocol.security;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Where a node's TLS key material comes from ({@code clmr.security.tls}): nowhere, a directory of PEM files, or a
 * key store and trust store pair. Read by {@link SecuritySettings}; immutable.
 */
public sealed interface TlsSettings permits TlsSettings.None, TlsSettings.PemDirectory, TlsSettings.KeyStores {
    /** The settings' prefix. */
    String PREFIX = SecuritySettings.PREFIX + ".tls";

    /** Whether any key material is configured. */
    default boolean configured() {
        return !(this instanceof None);
    }

    /** No key material: the node speaks plain TCP (allowed on loopback addresses or with {@code insecure = on}). */
    record None() implements TlsSettings {
    }

    /**
     * PEM files in one directory, read by Akka's rotating-keys engine.
     *
     * @param dir         absolute path of the directory with {@code tls.key}, {@code tls.crt}, {@code ca.crt}
     * @param reloadAfter how long a TLS context built from them is kept before they are read again
     */
    record PemDirectory(Path dir, Duration reloadAfter) implements TlsSettings {
        /** The setting that names the directory. */
        public static final String KEY = PREFIX + ".key-dir";

        /** The node's private key ({@code tls.key}). */
        public Path keyFile() {
            return dir.resolve(NodeCertificate.KEY_FILE);
        }

        /** The node's certificate ({@code tls.crt}). */
        public Path certFile() {
            return dir.resolve(NodeCertificate.CERT_FILE);
        }

        /** The run CA's certificate ({@code ca.crt}). */
        public Path caFile() {
            return dir.resolve(NodeCertificate.CA_FILE);
        }
    }

    /**
     * A key store with this node's key and chain, and a trust store with the run CA, read by Akka's
     * ConfigSSLEngineProvider. The passwords are {@link Secret}s: this record may be logged.
     *
     * @param keyStore           absolute path of the key store (PKCS12 or JKS)
     * @param keyStorePassword   its password
     * @param keyPassword        the key entry's password (the key store's when none was set)
     * @param trustStore         absolute path of the trust store
     * @param trustStorePassword its password
     */
    record KeyStores(Path keyStore, Secret keyStorePassword, Secret keyPassword, Path trustStore,
                     Secret trustStorePassword) implements TlsSettings {
        /** The setting that names the key store. */
        public static final String KEY = PREFIX + ".key-store";
        /** The setting that names the trust store. */
        public static final String TRUST_KEY = PREFIX + ".trust-store";
    }
}

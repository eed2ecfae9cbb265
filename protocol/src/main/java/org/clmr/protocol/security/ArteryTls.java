package org.clmr.protocol.security;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Akka settings that put a node's Artery on mutual TLS ({@code transport = tls-tcp}), from its
 * {@link TlsSettings}. Every node of a cluster must use them (a plain-TCP node cannot talk to a TLS one).
 * <ul>
 *   <li>PEM directory: Akka 2.6's {@code RotatingKeysSSLEngineProvider} reads {@code tls.key}, {@code tls.crt} and
 *   {@code ca.crt} and reads them again every {@code reload-after}, so certificates renewed in place (cert-manager)
 *   are taken up without a restart. It always requires the peer's certificate (its server engines call
 *   {@code setNeedClientAuth(true)}; there is no setting) and after the handshake accepts a peer only if the two
 *   certificates share a subject name ({@link NodeCertificate#COMMON_NAME}).</li>
 *   <li>Key stores: Akka's {@code ConfigSSLEngineProvider} with {@code require-mutual-authentication = on}.</li>
 * </ul>
 * Akka's provider is wrapped by {@link RefusalLoggingSslEngineProvider}, which logs the connections a node refused.
 * Host names are not verified ({@code hostname-verification = off}; the rotating-keys engine has no such check):
 * nodes reach each other by IP address, which changes as pods and hosts come and go, and the run CA is private to
 * the run, so a certificate it issued is what makes a node a member; a member could claim any address anyway.
 * TLS 1.2 with ECDHE key exchange and AES-GCM only (forward secrecy; Akka 2.6's TLS stage is tested on 1.2).
 * Stateless; any thread.
 */
public final class ArteryTls {
    /** Artery's TLS transport. */
    public static final String TRANSPORT = "tls-tcp";
    /** The TLS version. */
    public static final String PROTOCOL = "TLSv1.2";
    /** Cipher suites for the RSA keys of the PEM directory (what akka-pki reads). */
    public static final List<String> RSA_SUITES = List.of(
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    /** Cipher suites for key stores, which may hold EC keys too. */
    public static final List<String> STORE_SUITES = List.of(
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");

    private static final String SSL = "akka.remote.artery.ssl.";
    private static final String ROTATING = SSL + "rotating-keys-engine.";
    private static final String STORES = SSL + "config-ssl-engine.";

    private ArteryTls() {
    }

    /**
     * Akka config paths and values (as {@code ClusterDowning.settings}: a node adds them to its own). Empty for
     * {@link TlsSettings.None}: Artery stays on plain TCP. Holds the key stores' passwords in key-store mode: never
     * log this map, and keep {@code akka.log-config-on-start} off.
     */
    public static Map<String, Object> akkaSettings(TlsSettings tls) {
        Map<String, Object> v = new LinkedHashMap<>();
        if (tls instanceof TlsSettings.PemDirectory) {
            TlsSettings.PemDirectory pem = (TlsSettings.PemDirectory) tls;
            v.put("akka.remote.artery.transport", TRANSPORT);
            v.put(SSL + "ssl-engine-provider", RefusalLoggingSslEngineProvider.class.getName());
            v.put(RefusalLoggingSslEngineProvider.DELEGATE_KEY, "akka.remote.artery.tcp.ssl.RotatingKeysSSLEngineProvider");
            v.put(ROTATING + "key-file", pem.keyFile().toString());
            v.put(ROTATING + "cert-file", pem.certFile().toString());
            v.put(ROTATING + "ca-cert-file", pem.caFile().toString());
            v.put(ROTATING + "ssl-context-cache-ttl", pem.reloadAfter().toMillis() + "ms");
            v.put(ROTATING + "protocol", PROTOCOL);
            v.put(ROTATING + "enabled-algorithms", RSA_SUITES);
        } else if (tls instanceof TlsSettings.KeyStores) {
            TlsSettings.KeyStores s = (TlsSettings.KeyStores) tls;
            v.put("akka.remote.artery.transport", TRANSPORT);
            v.put(SSL + "ssl-engine-provider", RefusalLoggingSslEngineProvider.class.getName());
            v.put(RefusalLoggingSslEngineProvider.DELEGATE_KEY, "akka.remote.artery.tcp.ConfigSSLEngineProvider");
            v.put(STORES + "key-store", s.keyStore().toString());
            v.put(STORES + "key-store-password", s.keyStorePassword().reveal());
            v.put(STORES + "key-password", s.keyPassword().reveal());
            v.put(STORES + "trust-store", s.trustStore().toString());
            v.put(STORES + "trust-store-password", s.trustStorePassword().reveal());
            v.put(STORES + "protocol", PROTOCOL);
            v.put(STORES + "enabled-algorithms", STORE_SUITES);
            v.put(STORES + "require-mutual-authentication", "on");
            v.put(STORES + "hostname-verification", "off");
        }
        return v;
    }

    /** {@link #akkaSettings} as a Config, to put in front of a node's configuration with {@code withFallback}. */
    public static Config akkaConfig(TlsSettings tls) {
        Config c = ConfigFactory.empty();
        for (Map.Entry<String, Object> e : akkaSettings(tls).entrySet()) {
            c = c.withValue(e.getKey(), ConfigValueFactory.fromAnyRef(e.getValue()));
        }
        return c;
    }
}

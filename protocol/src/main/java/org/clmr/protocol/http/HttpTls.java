package org.clmr.protocol.http;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import org.clmr.protocol.config.SettingsException;
import org.clmr.protocol.security.NodeSecurity;
import org.clmr.protocol.security.TlsSettings;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.Optional;

/**
 * HTTP or HTTPS for a node's endpoint and for the clients that talk to it. A node serves HTTPS with its own key
 * material (the certificate the run CA issued it, as on Artery) when its setting says so; clients then trust the
 * run CA only, from the same {@code clmr.security.tls} settings ({@code ca.crt} of the key directory, or the trust
 * store), and check the host name against the certificate, as every HTTPS client does. Stateless; any thread.
 */
public final class HttpTls {
    private HttpTls() {
    }

    /**
     * The server-side TLS context of a node's HTTP endpoint: its own key material when {@code https} is on, none
     * (plain HTTP) when it is off.
     *
     * @param key the setting that turns HTTPS on, named when the node has no key material
     * @throws SettingsException when HTTPS is asked for and the node has no key material
     */
    public static Optional<SSLContext> serverContext(boolean https, NodeSecurity security, String key) {
        if (!https) {
            return Optional.empty();
        }
        return Optional.of(security.sslContext().orElseThrow(() -> new SettingsException(key, "is on but this node has"
                + " no TLS key material: set " + TlsSettings.PemDirectory.KEY + " (or key-store and trust-store), or"
                + " turn " + key + " off")));
    }

    /** A server on {@code address}, not yet started: HTTPS with {@code tls}, or plain HTTP without. */
    public static HttpServer server(InetSocketAddress address, Optional<SSLContext> tls) throws IOException {
        if (tls.isEmpty()) {
            return HttpServer.create(address, 16);
        }
        HttpsServer server = HttpsServer.create(address, 16);
        server.setHttpsConfigurator(new HttpsConfigurator(tls.get()));
        return server;
    }

    /** {@code https} or {@code http}. */
    public static String scheme(boolean https) {
        return https ? "https" : "http";
    }

    /**
     * A client context that trusts the run CA of {@code tls} and nothing else: {@code ca.crt} of the key directory,
     * or the trust store. Empty for {@link TlsSettings.None}.
     *
     * @throws SettingsException naming the setting when the CA cannot be read
     */
    public static Optional<SSLContext> clientContext(TlsSettings tls) {
        KeyStore trust;
        if (tls instanceof TlsSettings.PemDirectory pem) {
            trust = caStore(pem.caFile());
        } else if (tls instanceof TlsSettings.KeyStores stores) {
            trust = trustStore(stores);
        } else {
            return Optional.empty();
        }
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return Optional.of(ctx);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot build a TLS client context: " + e.getMessage(), e);
        }
    }

    private static KeyStore caStore(Path caFile) {
        try (InputStream in = Files.newInputStream(caFile)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setCertificateEntry("run-ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
            return ks;
        } catch (IOException | GeneralSecurityException e) {
            throw new SettingsException(TlsSettings.PemDirectory.KEY, caFile + " cannot be read as the run CA's"
                    + " certificate (" + e.getClass().getSimpleName() + "); copy ca.crt of the run's key material there");
        }
    }

    private static KeyStore trustStore(TlsSettings.KeyStores stores) {
        try {
            return KeyStore.getInstance(stores.trustStore().toFile(), stores.trustStorePassword().toCharArray());
        } catch (IOException | GeneralSecurityException e) {
            throw new SettingsException(TlsSettings.KeyStores.TRUST_KEY, stores.trustStore() + " cannot be opened ("
                    + e.getClass().getSimpleName() + "); check the file and its password");
        }
    }
}

package org.clmr.protocol.security;

import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The JDK's own TLS (a real server socket and client socket on loopback, TLS 1.2 and 1.3 as the JDK negotiates)
 * over key material that {@link CertificateAuthority} made and {@link NodeKeyMaterial} loaded from its files:
 * two nodes of one run CA authenticate each other; a certificate from another CA is refused on either side, and so is
 * a client with no certificate.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class MutualTlsHandshakeTest {
    @TempDir
    static Path dir;

    private static CertificateAuthority runCa;
    private static NodeKeyMaterial server;
    private static NodeKeyMaterial client;
    private static NodeKeyMaterial foreign;

    @BeforeAll
    static void makeKeys() {
        runCa = TestKeys.ca();
        server = load(TestKeys.pemDir(TestKeys.node(runCa, "127.0.0.1"), dir.resolve("server")));
        client = load(TestKeys.pemDir(TestKeys.node(runCa, "10.0.0.7"), dir.resolve("client")));
        foreign = load(TestKeys.pemDir(TestKeys.node(TestKeys.ca(), "127.0.0.1"), dir.resolve("foreign")));
    }

    private static NodeKeyMaterial load(TlsSettings tls) {
        return NodeKeyMaterial.load(tls, Clock.systemUTC());
    }

    @Test
    void shouldAuthenticateBothNodesOfOneRunCa() throws Exception {
        assertEquals("CN=" + NodeCertificate.COMMON_NAME, exchange(server.sslContext(), client.sslContext()));
    }

    @Test
    void shouldRefuseAClientCertificateFromAnotherCa() {
        assertThrows(SSLException.class, () -> exchange(server.sslContext(), foreign.sslContext()));
    }

    @Test
    void shouldRefuseAServerCertificateFromAnotherCa() {
        assertThrows(SSLException.class, () -> exchange(foreign.sslContext(), client.sslContext()));
    }

    @Test
    void shouldRefuseAClientWithoutACertificate() throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("run-ca", runCa.certificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext certless = SSLContext.getInstance("TLS");
        certless.init(null, tmf.getTrustManagers(), null);
        assertThrows(SSLException.class, () -> exchange(server.sslContext(), certless));
    }

    @Test
    void shouldReadAPkcs1KeyAsCertManagerWritesIt() throws Exception {
        NodeCertificate node = TestKeys.node(runCa, "127.0.0.1");
        Path pkcs1 = dir.resolve("pkcs1");
        node.write(pkcs1, false);
        StringWriter pem = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(pem)) {
            w.writeObject(node.key());
        }
        assertTrue(pem.toString().startsWith("-----BEGIN RSA PRIVATE KEY-----"), pem.toString().lines().findFirst().orElse(""));
        Files.writeString(pkcs1.resolve(NodeCertificate.KEY_FILE), pem.toString(), StandardCharsets.US_ASCII);
        NodeKeyMaterial m = load(new TlsSettings.PemDirectory(pkcs1, java.time.Duration.ofMinutes(5)));
        assertEquals("CN=" + NodeCertificate.COMMON_NAME, exchange(server.sslContext(), m.sslContext()));
    }

    /**
     * Connects a client to a server that requires a client certificate, sends a line and reads it back. Returns the
     * client certificate's subject as the server saw it; throws the client's or the server's handshake failure.
     */
    static String exchange(SSLContext serverContext, SSLContext clientContext) throws Exception {
        try (SSLServerSocket listener = (SSLServerSocket) serverContext.getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            listener.setNeedClientAuth(true);
            CompletableFuture<String> served = CompletableFuture.supplyAsync(() -> serve(listener));
            try (SSLSocket socket = (SSLSocket) clientContext.getSocketFactory().createSocket()) {
                socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort()), 10_000);
                socket.setSoTimeout(20_000);
                socket.startHandshake();
                socket.getOutputStream().write("ping\n".getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().flush();
                byte[] echo = socket.getInputStream().readNBytes(5);
                assertEquals("ping\n", new String(echo, StandardCharsets.US_ASCII));
            } catch (IOException clientSide) {
                // under TLS 1.3 the server judges the client's certificate after the client's handshake has
                // ended: the client may see only a reset; the server's SSLException then says why
                Throwable serverSide = served.handle((v, e) -> e).get(20, TimeUnit.SECONDS);
                if (serverSide != null && serverSide.getCause() instanceof java.io.UncheckedIOException
                        && serverSide.getCause().getCause() instanceof SSLException) {
                    throw (SSLException) serverSide.getCause().getCause();
                }
                throw clientSide;
            }
            try {
                return served.get(20, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                throw (Exception) e.getCause().getCause();
            }
        }
    }

    private static String serve(SSLServerSocket listener) {
        try (SSLSocket s = (SSLSocket) listener.accept()) {
            s.setSoTimeout(20_000);
            s.startHandshake();
            byte[] line = s.getInputStream().readNBytes(5);
            s.getOutputStream().write(line);
            s.getOutputStream().flush();
            return ((java.security.cert.X509Certificate) s.getSession().getPeerCertificates()[0])
                    .getSubjectX500Principal().getName();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}

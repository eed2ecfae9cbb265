package org.clmr.worker.metrics;

import com.sun.net.httpserver.HttpServer;
import com.typesafe.config.Config;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.clmr.protocol.UserError;
import org.clmr.protocol.http.HttpGuard;
import org.clmr.protocol.http.HttpTls;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A worker's HTTP endpoint for Prometheus: {@code GET /metrics} in the text (or, when asked, protobuf)
 * exposition format, served by a JDK HTTP server on one daemon thread. The standard JVM and process metrics
 * ({@code jvm_*}, {@code process_*}) are added to the registry. Reads need the control token when
 * {@code clmr.security.protect-reads} is on ({@link HttpGuard}); HTTPS with the node's key material when
 * {@code clmr.worker.metrics.tls} is on.
 */
public final class MetricsEndpoint implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService executor;
    private final String scheme;
    private final String host;

    private MetricsEndpoint(HttpServer server, ExecutorService executor, String scheme, String host) {
        this.server = server;
        this.executor = executor;
        this.scheme = scheme;
        this.host = host;
    }

    /**
     * The endpoint of {@code clmr.worker.metrics}; logs one line {@code metrics: http://HOST:PORT/metrics}
     * (what {@code clmr train --workers N} reads to write Prometheus's targets).
     *
     * @param clusterHost the worker's cluster host, used when {@code clmr.worker.metrics.host} is empty
     * @param guard       who may read
     * @param tls         HTTPS with this context, or plain HTTP when empty
     */
    public static MetricsEndpoint start(Config config, String clusterHost, PrometheusRegistry registry,
                                        HttpGuard guard, Optional<SSLContext> tls) {
        MetricsSettings s = MetricsSettings.from(config);
        MetricsEndpoint e = start(s.hostOr(clusterHost), s.port(), registry, guard, tls);
        LoggerFactory.getLogger(MetricsEndpoint.class).info("metrics: {}", e.url());
        return e;
    }

    /** {@link #start(String, int, PrometheusRegistry, HttpGuard, Optional)} open to every reader, over plain HTTP. */
    public static MetricsEndpoint start(String host, int port, PrometheusRegistry registry) {
        return start(host, port, registry, HttpGuard.of(Optional.empty(), false), Optional.empty());
    }

    /**
     * Listens on {@code host:port} (0: a free port).
     *
     * @throws UserError when the port is taken or the host cannot be bound
     */
    public static MetricsEndpoint start(String host, int port, PrometheusRegistry registry, HttpGuard guard,
                                        Optional<SSLContext> tls) {
        JvmMetrics.builder().register(registry);
        HttpServer server;
        try {
            server = HttpTls.server(new InetSocketAddress(host, port), tls);
        } catch (BindException e) {
            throw new UserError("cannot listen on " + host + ":" + port + " for worker metrics (" + e.getMessage()
                    + "): set clmr.worker.metrics.port to a free port, or 0 for any");
        } catch (IOException e) {
            throw new UncheckedIOException("worker metrics endpoint on " + host + ":" + port, e);
        }
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "clmr-worker-metrics");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/metrics", guard.guard(HttpGuard.Access.READ, new MetricsHandler(registry)));
        server.start();
        return new MetricsEndpoint(server, executor, HttpTls.scheme(tls.isPresent()), host);
    }

    /** The port it listens on. */
    public int port() {
        return server.getAddress().getPort();
    }

    /** The address Prometheus scrapes, {@code host:port}. */
    public String address() {
        return host + ":" + port();
    }

    /** {@code http://host:port/metrics} (or https). */
    public String url() {
        return scheme + "://" + address() + "/metrics";
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}

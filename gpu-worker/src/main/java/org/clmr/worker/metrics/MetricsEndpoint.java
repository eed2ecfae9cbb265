package org.clmr.worker.metrics;

import com.typesafe.config.Config;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.clmr.protocol.UserError;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;

/**
 * A worker's HTTP endpoint for Prometheus: {@code GET /metrics} in the text (or, when asked, protobuf)
 * exposition format, served by the Prometheus client's small JDK HTTP server on its own daemon threads.
 * The standard JVM and process metrics ({@code jvm_*}, {@code process_*}) are added to the registry.
 */
public final class MetricsEndpoint implements AutoCloseable {
    private final HTTPServer server;
    private final String host;

    private MetricsEndpoint(HTTPServer server, String host) {
        this.server = server;
        this.host = host;
    }

    /**
     * The endpoint of {@code clmr.worker.metrics}; logs one line {@code metrics: http://HOST:PORT/metrics}
     * (what {@code clmr train --workers N} reads to write Prometheus's targets).
     *
     * @param clusterHost the worker's cluster host, used when {@code clmr.worker.metrics.host} is empty
     */
    public static MetricsEndpoint start(Config config, String clusterHost, PrometheusRegistry registry) {
        MetricsSettings s = MetricsSettings.from(config);
        MetricsEndpoint e = start(s.hostOr(clusterHost), s.port(), registry);
        LoggerFactory.getLogger(MetricsEndpoint.class).info("metrics: {}", e.url());
        return e;
    }

    /**
     * Listens on {@code host:port} (0: a free port).
     *
     * @throws UserError when the port is taken or the host cannot be bound
     */
    public static MetricsEndpoint start(String host, int port, PrometheusRegistry registry) {
        JvmMetrics.builder().register(registry);
        try {
            return new MetricsEndpoint(HTTPServer.builder().hostname(host).port(port).registry(registry).buildAndStart(),
                    host);
        } catch (BindException e) {
            throw new UserError("cannot listen on " + host + ":" + port + " for worker metrics (" + e.getMessage()
                    + "): set clmr.worker.metrics.port to a free port, or 0 for any");
        } catch (IOException e) {
            throw new UncheckedIOException("worker metrics endpoint on " + host + ":" + port, e);
        }
    }

    /** The port it listens on. */
    public int port() {
        return server.getPort();
    }

    /** The address Prometheus scrapes, {@code host:port}. */
    public String address() {
        return host + ":" + port();
    }

    /** {@code http://host:port/metrics}. */
    public String url() {
        return "http://" + address() + "/metrics";
    }

    @Override
    public void close() {
        server.close();
    }
}

package org.clmr.worker.metrics;

import com.typesafe.config.Config;
import org.clmr.protocol.config.ConfigReader;

/**
 * Where a worker serves its Prometheus metrics ({@code clmr.worker.metrics}).
 *
 * @param host address the endpoint listens on and advertises; empty: the worker's cluster host
 *             ({@code clmr.worker.cluster.host}), which other nodes already reach it at
 * @param port TCP port; 0 picks a free one (several workers on one host)
 * @param tls  whether it serves HTTPS with the node's TLS key material
 */
public record MetricsSettings(String host, int port, boolean tls) {
    /** The setting that turns HTTPS on. */
    public static final String TLS_KEY = "clmr.worker.metrics.tls";
    /** The setting of the host. */
    public static final String HOST_KEY = "clmr.worker.metrics.host";

    /** Reads and validates {@code clmr.worker.metrics}. */
    public static MetricsSettings from(Config config) {
        ConfigReader r = new ConfigReader(config, "").at("clmr").at("worker").at("metrics");
        return new MetricsSettings(r.getString("host"), r.getInt("port", 0, 65535), r.getBoolean("tls"));
    }

    /** The host to listen on: {@link #host()}, or {@code clusterHost} when that is empty. */
    public String hostOr(String clusterHost) {
        return host.isEmpty() ? clusterHost : host;
    }
}

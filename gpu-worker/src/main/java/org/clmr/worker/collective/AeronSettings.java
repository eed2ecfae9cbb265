package org.clmr.worker.collective;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import org.clmr.protocol.config.ConfigReader;
import org.clmr.protocol.config.SettingsException;

import java.time.Duration;
import java.util.List;

/**
 * The Aeron data plane's settings, read once from {@code clmr.worker.aeron} and validated (see the
 * module's reference.conf for each key's meaning).
 *
 * @param embeddedDriver  true to start a media driver in this process
 * @param driverDir       the driver directory; empty for the default (see reference.conf)
 * @param ipc             true for {@code aeron:ipc}, false for {@code aeron:udp}
 * @param endpoint        this process's UDP endpoint, host:port
 * @param termLength      publication term length in bytes (power of two)
 * @param mtu             Aeron MTU in bytes
 * @param socketBuffer    socket buffer and receiver window in bytes
 * @param opTimeout       deadline of one collective operation
 * @param connectTimeout  deadline for a generation's peers to connect
 * @param livenessTimeout silence after which a peer counts as lost
 * @param smallThreshold  all-reduces up to this many bytes use the direct exchange
 * @param idleMaxPark     longest park of a waiting thread
 * @param loopbackMtu     Aeron MTU in bytes when every rank's endpoint is a loopback address
 * @param idleSpins       busy spins of a waiting thread before it yields
 * @param idleYields      yields of a waiting thread before it parks
 */
public record AeronSettings(boolean embeddedDriver, String driverDir, boolean ipc, String endpoint,
                            int termLength, int mtu, int socketBuffer, Duration opTimeout,
                            Duration connectTimeout, Duration livenessTimeout, int smallThreshold,
                            Duration idleMaxPark, int loopbackMtu, int idleSpins, int idleYields) {

    /** Aeron's ceiling on one message, whatever the term length. */
    public static final int MAX_MESSAGE_CEILING = 16 * 1024 * 1024;

    /** The config section. */
    public static final String SECTION = "clmr.worker.aeron";

    /** Reads and validates {@code clmr.worker.aeron}. */
    public static AeronSettings from(Config config) {
        ConfigReader r = new ConfigReader(config, "").at(SECTION);
        boolean embedded = r.getEnum("driver", List.of("embedded", "external")).equals("embedded");
        boolean ipc = r.getEnum("transport", List.of("udp", "ipc")).equals("ipc");
        String endpoint = r.getString("endpoint");
        parseEndpoint(r.key("endpoint"), endpoint);
        int term = (int) bytes(r, "term-length", 64 * 1024, 1024 * 1024 * 1024);
        if (Integer.bitCount(term) != 1) {
            throw new SettingsException(r.key("term-length"), term, "must be a power of two between 64k and 1g");
        }
        int mtu = mtu(r, "mtu");
        int loopbackMtu = mtu(r, "loopback-mtu");
        int socketBuffer = (int) bytes(r, "socket-buffer", 64 * 1024, 256 * 1024 * 1024);
        Duration op = r.getDuration("op-timeout", Duration.ofMillis(10), Duration.ofHours(1));
        Duration connect = r.getDuration("connect-timeout", Duration.ofMillis(100), Duration.ofHours(1));
        Duration liveness = r.getDuration("liveness-timeout", Duration.ofMillis(500), Duration.ofMinutes(10));
        int small = (int) bytes(r, "small-threshold", 0, 16 * 1024 * 1024);
        Duration park = r.getDuration("idle-max-park", Duration.ofNanos(1000), Duration.ofMillis(10));
        int spins = r.getInt("idle-spins", 0, 1_000_000);
        int yields = r.getInt("idle-yields", 0, 1_000_000);
        return new AeronSettings(embedded, r.getString("driver-dir"), ipc, endpoint, term, mtu, socketBuffer,
                op, connect, liveness, small, park, loopbackMtu, spins, yields);
    }

    private static int mtu(ConfigReader r, String key) {
        int mtu = (int) bytes(r, key, 1024, 65504);
        if (mtu % 32 != 0) {
            throw new SettingsException(r.key(key), mtu, "must be a multiple of 32 between 1024 and 65504");
        }
        return mtu;
    }

    /**
     * The MTU of a UDP generation whose ranks have these endpoints: {@link #loopbackMtu()} when every one
     * is a loopback address (127.0.0.0/8, ::1, localhost), whose datagrams may be 64 KiB, else {@link #mtu()}.
     */
    public int udpMtu(List<String> endpoints) {
        for (String e : endpoints) {
            String host = e.substring(0, Math.max(0, e.lastIndexOf(':')));
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            if (!(host.startsWith("127.") || host.equals("::1") || host.equalsIgnoreCase("localhost"))) {
                return mtu;
            }
        }
        return loopbackMtu;
    }

    /** The largest Aeron message for this term length: min(term length / 8, 16 MiB). */
    public int maxMessageLength() {
        return Math.min(termLength / 8, MAX_MESSAGE_CEILING);
    }

    /** This settings with another transport, endpoint and driver directory (tests, benchmarks). */
    public AeronSettings with(boolean embedded, String dir, boolean useIpc, String ownEndpoint) {
        return new AeronSettings(embedded, dir, useIpc, ownEndpoint, termLength, mtu, socketBuffer, opTimeout,
                connectTimeout, livenessTimeout, smallThreshold, idleMaxPark, loopbackMtu, idleSpins, idleYields);
    }

    /** This settings with other deadlines (tests). */
    public AeronSettings withTimeouts(Duration op, Duration connect, Duration liveness) {
        return new AeronSettings(embeddedDriver, driverDir, ipc, endpoint, termLength, mtu, socketBuffer, op,
                connect, liveness, smallThreshold, idleMaxPark, loopbackMtu, idleSpins, idleYields);
    }

    /** This settings with another term length and MTU, the latter for every UDP path, loopback included (benchmarks, tests). */
    public AeronSettings withSizes(int newTermLength, int newMtu) {
        return new AeronSettings(embeddedDriver, driverDir, ipc, endpoint, newTermLength, newMtu, socketBuffer,
                opTimeout, connectTimeout, livenessTimeout, smallThreshold, idleMaxPark, newMtu, idleSpins, idleYields);
    }

    /**
     * Splits {@code host:port} (an IPv6 host in brackets); throws a {@link SettingsException} naming
     * {@code key} when it is not one.
     */
    public static String[] parseEndpoint(String key, String endpoint) {
        int colon = endpoint.lastIndexOf(':');
        if (colon <= 0 || colon == endpoint.length() - 1) {
            throw new SettingsException(key, endpoint, "must be host:port, e.g. 10.0.0.5:40500");
        }
        String port = endpoint.substring(colon + 1);
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new SettingsException(key, endpoint, "must be host:port with a numeric port in [1, 65535]");
        }
        if (p < 1 || p > 65535) {
            throw new SettingsException(key, endpoint, "must be host:port with a port in [1, 65535]");
        }
        return new String[] {endpoint.substring(0, colon), port};
    }

    private static long bytes(ConfigReader r, String path, long min, long max) {
        long v;
        try {
            v = r.config().getBytes(path);
        } catch (ConfigException.BadValue | ConfigException.WrongType e) {
            throw new SettingsException(r.key(path), r.config().getValue(path).unwrapped(),
                    "must be a size such as 64k or 8m in [" + min + ", " + max + "] bytes");
        } catch (ConfigException.Missing e) {
            throw new SettingsException(r.key(path), "missing; expected a size such as 8m");
        }
        if (v < min || v > max) {
            throw new SettingsException(r.key(path), v, "must be a size in [" + min + ", " + max + "] bytes");
        }
        return v;
    }

    /**
     * {@code n} free loopback UDP endpoints ({@code 127.0.0.1:port}), probed by binding them all at once and
     * releasing them, for local clusters, tests and benchmarks.
     */
    public static List<String> freeLoopbackEndpoints(int n) throws java.io.IOException {
        List<java.net.DatagramSocket> sockets = new java.util.ArrayList<>();
        List<String> endpoints = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                java.net.DatagramSocket s = new java.net.DatagramSocket(0, java.net.InetAddress.getLoopbackAddress());
                sockets.add(s);
                endpoints.add("127.0.0.1:" + s.getLocalPort());
            }
        } finally {
            sockets.forEach(java.net.DatagramSocket::close);
        }
        return endpoints;
    }
}

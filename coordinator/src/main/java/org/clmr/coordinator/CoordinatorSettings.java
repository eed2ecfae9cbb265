package org.clmr.coordinator;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import org.clmr.coordinator.desk.TolerancePolicy;
import org.clmr.protocol.config.ConfigReader;
import org.clmr.protocol.config.SettingsException;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The coordinator's settings, read once from {@code clmr.coordinator} and validated.
 *
 * @param database            where journal, snapshots and checkpoints live
 * @param clusterHost         Artery host
 * @param clusterPort         Artery port (0: any free one)
 * @param seedNodes           cluster seed nodes (empty: join itself)
 * @param httpHost            status/metrics host
 * @param httpPort            status/metrics port (0: any free one)
 * @param persistenceId       the journal's persistence id
 * @param snapshotEveryEvents snapshot cadence
 * @param planSteps           longest plan
 * @param rebalanceThreshold  minimum predicted step-time gain for a re-balance
 * @param throughputEmaAlpha  EMA weight of a new report
 * @param formationDelay      gathering time before a run's first generation
 * @param tolerance           the failure tolerance policy
 * @param askTimeout          operator/status ask timeout
 * @param downUnreachableAfter the Split Brain Resolver's stable-after
 * @param peerTimeoutWindow   how long peer-timeout reports of one generation are gathered before deciding
 *                            whom to evict (0: act on each report at once)
 * @param httpTls             whether the HTTP endpoint serves HTTPS with the node's key material
 * @param handoff             what the node takes of checkpoints that workers hand over
 * @param minFreeDisk         bytes the H2 database's file system must have free beyond twice the newest
 *                            checkpoint before a checkpoint is asked for (0: no check)
 */
public record CoordinatorSettings(DatabaseSettings database, String clusterHost, int clusterPort, List<String> seedNodes,
                                  String httpHost, int httpPort, String persistenceId, int snapshotEveryEvents,
                                  int planSteps, double rebalanceThreshold, double throughputEmaAlpha,
                                  Duration formationDelay, TolerancePolicy tolerance, Duration askTimeout,
                                  Duration downUnreachableAfter, Duration peerTimeoutWindow, boolean httpTls,
                                  HandoffSettings handoff, long minFreeDisk) {
    /** The setting that turns HTTPS on. */
    public static final String HTTP_TLS_KEY = "clmr.coordinator.http.tls";

    /** Reads and validates {@code clmr.coordinator}. */
    public static CoordinatorSettings from(Config resolved) {
        ConfigReader r = new ConfigReader(resolved, "").at("clmr").at("coordinator");
        ConfigReader c = r.at("cluster");
        ConfigReader h = r.at("http");
        return new CoordinatorSettings(
                DatabaseSettings.from(r.at("database")),
                c.getString("host"),
                c.getInt("port", 0, 65535),
                stringList(c, "seed-nodes"),
                h.getString("host"),
                h.getInt("port", 0, 65535),
                r.getString("persistence-id"),
                r.getInt("snapshot-every-events", 1, 1_000_000),
                r.getInt("plan-steps", 1, 1_000_000),
                r.getDouble("rebalance-threshold", 0.0, 1.0),
                r.getDouble("throughput-ema-alpha", 0.001, 1.0),
                r.getDuration("formation-delay", Duration.ZERO, Duration.ofHours(1)),
                new TolerancePolicy(r.getInt("max-checkpoint-failures", 1, 1000)),
                r.getDuration("ask-timeout", Duration.ofMillis(100), Duration.ofMinutes(10)),
                c.getDuration("down-unreachable-after", Duration.ofSeconds(1), Duration.ofMinutes(10)),
                r.getDuration("peer-timeout-window", Duration.ZERO, Duration.ofMinutes(1)),
                h.getBoolean("tls"),
                HandoffSettings.from(r.at("checkpoint-handoff")),
                r.getBytes("min-free-disk", 0, 1L << 40));
    }

    private static List<String> stringList(ConfigReader r, String path) {
        try {
            List<String> v = r.config().getStringList(path);
            for (String s : v) {
                if (!s.startsWith("akka://")) {
                    throw new SettingsException(r.key(path), v, "every seed node must look like akka://clmr@HOST:PORT");
                }
            }
            return List.copyOf(v);
        } catch (ConfigException.WrongType e) {
            throw new SettingsException(r.key(path), "must be a list of strings such as [\"akka://clmr@10.0.0.1:25520\"]");
        }
    }

    /** A copy with other ports (tests use 0 for both). */
    public CoordinatorSettings withPorts(int cluster, int http) {
        return new CoordinatorSettings(database, clusterHost, cluster, seedNodes, httpHost, http, persistenceId,
                snapshotEveryEvents, planSteps, rebalanceThreshold, throughputEmaAlpha, formationDelay, tolerance,
                askTimeout, downUnreachableAfter, peerTimeoutWindow, httpTls, handoff, minFreeDisk);
    }

    /**
     * What a coordinator node takes of the checkpoints workers hand over ({@code clmr.coordinator.checkpoint-handoff}):
     * bounds on what an authenticated but faulty node can make it hold in memory.
     *
     * @param maxBytes     the largest checkpoint payload taken
     * @param maxTransfers how many workers may hand one over at the same time
     * @param idleTimeout  how long a transfer may stay silent before it is dropped
     */
    public record HandoffSettings(long maxBytes, int maxTransfers, Duration idleTimeout) {
        static HandoffSettings from(ConfigReader r) {
            long max;
            try {
                max = r.config().getBytes("max-bytes");
            } catch (ConfigException e) {
                throw new SettingsException(r.key("max-bytes"), "must be a size such as 256m");
            }
            if (max < 1 << 20 || max > Integer.MAX_VALUE - 8) {
                throw new SettingsException(r.key("max-bytes"), max, "from 1m to 2047m");
            }
            return new HandoffSettings(max, r.getInt("max-transfers", 1, 64),
                    r.getDuration("idle-timeout", Duration.ofSeconds(1), Duration.ofHours(1)));
        }
    }

    /**
     * Where the coordinator's tables live.
     *
     * @param kind     h2 or postgresql
     * @param url      JDBC URL; empty: an H2 file in the run directory
     * @param user     database user
     * @param password its password
     * @param poolSize connections per pool
     */
    public record DatabaseSettings(String kind, String url, String user, String password, int poolSize) {
        /** The supported kinds. */
        public static final List<String> KINDS = List.of("h2", "postgresql");
        /** The name of the default H2 database in the run directory (H2 adds {@code .mv.db}). */
        public static final String H2_FILE = "coordinator";

        static DatabaseSettings from(ConfigReader r) {
            String kind = r.getEnum("kind", KINDS);
            String url = r.getString("url");
            if (url.toUpperCase(java.util.Locale.ROOT).contains("AUTO_SERVER")) {
                throw new SettingsException(r.key("url"), "turns on H2's AUTO_SERVER, which lets any process that opens"
                        + " the file become a database server on the network; remove it: only the coordinator opens its"
                        + " H2 file, and workers hand checkpoints over the cluster (use PostgreSQL to share a database)");
            }
            if (!url.isEmpty() && !url.startsWith("jdbc:" + kind + ":")) {
                throw new SettingsException(r.key("url"), url, "must start with jdbc:" + kind + ": to match "
                        + r.key("kind") + " = " + kind);
            }
            if (url.isEmpty() && kind.equals("postgresql")) {
                throw new SettingsException(r.key("url"), "must be set for PostgreSQL, e.g. jdbc:postgresql://db:5432/clmr");
            }
            return new DatabaseSettings(kind, url, r.getString("user"), r.getString("password"),
                    r.getInt("pool-size", 1, 256));
        }

        /**
         * The JDBC URL, the default H2 file resolved against the run directory. That file is opened by this process
         * only: no AUTO_SERVER, no H2 TCP server.
         */
        public String jdbcUrl(Path runDir) {
            if (!url.isEmpty()) {
                return url;
            }
            return defaultH2Url(runDir);
        }

        /**
         * The default H2 database of a run directory: the file {@code coordinator} in it, each commit written to the
         * file before it returns ({@code WRITE_DELAY=0}; H2's default writes it up to 500 ms later, so a coordinator
         * killed meanwhile lost events it had acted on: a recorded checkpoint, a generation, a whole run start).
         */
        public static String defaultH2Url(Path runDir) {
            return "jdbc:h2:file:" + runDir.toAbsolutePath().resolve(H2_FILE) + ";WRITE_DELAY=0";
        }

        /** The JDBC driver class. */
        public String driver() {
            return kind.equals("h2") ? "org.h2.Driver" : "org.postgresql.Driver";
        }

        /** Slick's profile for akka-persistence-jdbc. */
        public String slickProfile() {
            return kind.equals("h2") ? "slick.jdbc.H2Profile$" : "slick.jdbc.PostgresProfile$";
        }

        /** A copy with another URL (tests). */
        public DatabaseSettings withUrl(String kind, String url, String user, String password) {
            return new DatabaseSettings(kind, url, user, password, poolSize);
        }
    }
}

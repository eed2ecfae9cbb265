package org.clmr.worker.actor;

import com.typesafe.config.Config;
import org.clmr.protocol.config.ConfigReader;
import org.clmr.protocol.config.SettingsException;
import org.clmr.protocol.security.Redaction;

import java.time.Duration;
import java.util.Locale;

/**
 * How a worker process joins the cluster ({@code clmr.worker.cluster}): its Artery address, how often it
 * repeats a registration or a progress report while it waits, its throughput estimate for the first
 * share, and the checkpoint store it writes to when rank 0.
 *
 * @param host                   address other nodes reach this worker's Artery at
 * @param port                   Artery port; 0 picks a free one
 * @param repeatInterval         how often a registration, or the last progress at a plan boundary, is repeated
 * @param samplesPerSecond       throughput estimate sent with the registration (before any step is measured)
 * @param checkpointUrl          JDBC URL of a networked database (PostgreSQL, with its own credentials) that rank 0
 *                               writes checkpoints to and the coordinator reads them from; empty (the default):
 *                               checkpoints are handed to the coordinator over the cluster ({@code ClusterCheckpointStore})
 * @param checkpointUser         its user
 * @param checkpointPassword     its password
 * @param checkpointTimeout      how long each part of a checkpoint handed over may take to be answered
 * @param pickFreeAeronPort      replace the port of {@code clmr.worker.aeron.endpoint} by a free UDP port
 * @param coordinatorLostAfter   how long no coordinator node may be reachable before the worker leaves its
 *                               cluster node behind and joins the seed nodes again with a new one
 * @param downUnreachableAfter   the Split Brain Resolver's stable-after: how long the membership must be
 *                               stable with unreachable nodes before it downs them
 */
public record WorkerSettings(String host, int port, Duration repeatInterval, double samplesPerSecond,
                             String checkpointUrl, String checkpointUser, String checkpointPassword,
                             Duration checkpointTimeout, boolean pickFreeAeronPort, Duration coordinatorLostAfter,
                             Duration downUnreachableAfter) {
    /** The setting of the checkpoint database's URL. */
    public static final String CHECKPOINT_URL_KEY = "clmr.worker.cluster.checkpoint.url";

    /** Reads and validates {@code clmr.worker.cluster}. */
    public static WorkerSettings from(Config config) {
        ConfigReader r = new ConfigReader(config, "").at("clmr").at("worker").at("cluster");
        return new WorkerSettings(r.getString("host"), r.getInt("port", 0, 65535),
                r.getDuration("repeat-interval", Duration.ofMillis(50), Duration.ofMinutes(1)),
                r.getDouble("samples-per-second", 1e-6, 1e9),
                checkpointUrl(r.getString("checkpoint.url")), r.getString("checkpoint.user"),
                r.getString("checkpoint.password"),
                r.getDuration("checkpoint.timeout", Duration.ofSeconds(1), Duration.ofHours(1)),
                r.getBoolean("pick-free-aeron-port"),
                r.getDuration("coordinator-lost-after", Duration.ofSeconds(1), Duration.ofHours(1)),
                r.getDuration("down-unreachable-after", Duration.ofSeconds(1), Duration.ofMinutes(10)));
    }

    /**
     * The checkpoint database's URL: empty, or a networked database. An H2 URL is refused: the coordinator's H2 file
     * is opened by the coordinator only (a worker that opened it, or made itself its AUTO_SERVER, would hold the
     * run's journal), and workers hand checkpoints to it over the cluster instead.
     */
    private static String checkpointUrl(String url) {
        if (url.strip().toLowerCase(Locale.ROOT).startsWith("jdbc:h2:")) {
            throw new SettingsException(CHECKPOINT_URL_KEY, Redaction.redactUrl(url), "is an H2 database, which only the"
                    + " coordinator opens; leave it empty (rank 0 hands checkpoints to the coordinator over the"
                    + " cluster) or give a PostgreSQL URL the coordinator uses too");
        }
        return url;
    }
}

package org.clmr.worker.actor;

import com.typesafe.config.Config;
import org.clmr.protocol.config.ConfigReader;

import java.time.Duration;

/**
 * How a worker process joins the cluster ({@code clmr.worker.cluster}): its Artery address, how often it
 * repeats a registration or a progress report while it waits, its throughput estimate for the first
 * share, and the checkpoint store it writes to when rank 0.
 *
 * @param host                   address other nodes reach this worker's Artery at
 * @param port                   Artery port; 0 picks a free one
 * @param repeatInterval         how often a registration, or the last progress at a plan boundary, is repeated
 * @param samplesPerSecond       throughput estimate sent with the registration (before any step is measured)
 * @param checkpointUrl          JDBC URL of the coordinator's database, or empty (checkpoint requests then fail)
 * @param checkpointUser         its user
 * @param checkpointPassword     its password
 * @param pickFreeAeronPort      replace the port of {@code clmr.worker.aeron.endpoint} by a free UDP port
 * @param coordinatorLostAfter   how long no coordinator node may be reachable before the worker leaves its
 *                               cluster node behind and joins the seed nodes again with a new one
 * @param downUnreachableAfter   the Split Brain Resolver's stable-after: how long the membership must be
 *                               stable with unreachable nodes before it downs them
 */
public record WorkerSettings(String host, int port, Duration repeatInterval, double samplesPerSecond,
                             String checkpointUrl, String checkpointUser, String checkpointPassword,
                             boolean pickFreeAeronPort, Duration coordinatorLostAfter, Duration downUnreachableAfter) {

    /** Reads and validates {@code clmr.worker.cluster}. */
    public static WorkerSettings from(Config config) {
        ConfigReader r = new ConfigReader(config, "").at("clmr").at("worker").at("cluster");
        return new WorkerSettings(r.getString("host"), r.getInt("port", 0, 65535),
                r.getDuration("repeat-interval", Duration.ofMillis(50), Duration.ofMinutes(1)),
                r.getDouble("samples-per-second", 1e-6, 1e9),
                r.getString("checkpoint.url"), r.getString("checkpoint.user"), r.getString("checkpoint.password"),
                r.getBoolean("pick-free-aeron-port"),
                r.getDuration("coordinator-lost-after", Duration.ofSeconds(1), Duration.ofHours(1)),
                r.getDuration("down-unreachable-after", Duration.ofSeconds(1), Duration.ofMinutes(10)));
    }
}

package org.clmr.protocol.cluster;

import java.time.Duration;
import java.util.Map;

/**
 * The one downing configuration of every node of a clmr cluster (coordinators and workers must agree: the
 * cluster's leader, any node, takes the decision). Akka's Split Brain Resolver keeps the side with the oldest
 * coordinator node: the default keep-majority downed the coordinator of a 2-node cluster whose worker had the
 * lower address. Worker churn (a kill, a drain, a join within stable-after) must never take the coordinator
 * down, so there is no down-all when unstable and the coordinator stays up when it is the last node; workers
 * that lose it rebuild their node and register again.
 */
public final class ClusterDowning {
    private ClusterDowning() {
    }

    /**
     * Akka config paths and values.
     *
     * @param stableAfter how long the membership must stay unchanged with unreachable nodes before they are downed
     */
    public static Map<String, Object> settings(Duration stableAfter) {
        String sbr = "akka.cluster.split-brain-resolver.";
        return Map.of(
                "akka.cluster.downing-provider-class", "akka.cluster.sbr.SplitBrainResolverProvider",
                sbr + "active-strategy", "keep-oldest",
                sbr + "keep-oldest.role", CoordinatorProtocol.COORDINATOR_ROLE,
                sbr + "keep-oldest.down-if-alone", "off",
                sbr + "down-all-when-unstable", "off",
                sbr + "stable-after", stableAfter.toMillis() + "ms");
    }
}

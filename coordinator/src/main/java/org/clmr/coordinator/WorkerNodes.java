package org.clmr.coordinator;

import akka.actor.Address;
import akka.actor.ExtendedActorSystem;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.cluster.Cluster;
import akka.cluster.ClusterActorRefProvider;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.UniqueAddress;
import org.clmr.coordinator.journal.WorkerInfo;
import org.clmr.protocol.cluster.CoordinatorRestarted;

import java.util.List;
import java.util.Optional;

/** Where a worker's actor lives, as the coordinator asks after recovery. Called on the coordinator's thread. */
final class WorkerNodes {
    private WorkerNodes() {
    }

    /**
     * Whether the node of a recorded worker's actor is a member of the cluster {@code system} runs in. A worker of
     * an earlier coordinator incarnation whose node has not rejoined is not (its actor is gone with its old node);
     * refs without a remote address (one JVM, tests) always are.
     */
    static boolean inCluster(ActorSystem<?> system, ActorRef<?> ref) {
        Address address = ref.path().address();
        Optional<ExtendedActorSystem> clustered = clustered(system);
        if (!address.hasGlobalScope() || clustered.isEmpty()) {
            return true;
        }
        for (Member m : Cluster.get(clustered.get()).state().getMembers()) {
            MemberStatus status = m.status();
            if (m.address().equals(address) && (status == MemberStatus.up() || status == MemberStatus.weaklyUp()
                    || status == MemberStatus.joining())) {
                return true;
            }
        }
        return false;
    }

    /**
     * Tells each worker of {@code away} (recorded, not in this cluster) that this coordinator node restarted, so that
     * one still in the cluster of the dead incarnation replaces its node at once ({@link CoordinatorRestarted}).
     */
    static void tellRestarted(ActorSystem<?> system, List<WorkerInfo> away) {
        Optional<ExtendedActorSystem> clustered = clustered(system);
        if (away.isEmpty() || clustered.isEmpty()) {
            return;
        }
        UniqueAddress self = Cluster.get(clustered.get()).selfUniqueAddress();
        CoordinatorRestarted restarted = new CoordinatorRestarted(self.address().toString(), self.longUid());
        away.forEach(w -> w.ref().tell(restarted));
    }

    /** {@code system} as a classic system when it runs a cluster (not in a test's local actor system). */
    private static Optional<ExtendedActorSystem> clustered(ActorSystem<?> system) {
        return system.classicSystem() instanceof ExtendedActorSystem sys
                && sys.provider() instanceof ClusterActorRefProvider ? Optional.of(sys) : Optional.empty();
    }
}

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
        if (!address.hasGlobalScope() || !(system.classicSystem() instanceof ExtendedActorSystem sys)
                || !(sys.provider() instanceof ClusterActorRefProvider)) {
            return true;
        }
        for (Member m : Cluster.get(sys).state().getMembers()) {
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
        if (away.isEmpty() || !(system.classicSystem() instanceof ExtendedActorSystem sys)
                || !(sys.provider() instanceof ClusterActorRefProvider)) {
            return;
        }
        UniqueAddress self = Cluster.get(sys).selfUniqueAddress();
        CoordinatorRestarted restarted = new CoordinatorRestarted(self.address().toString(), self.longUid());
        away.forEach(w -> w.ref().tell(restarted));
    }
}

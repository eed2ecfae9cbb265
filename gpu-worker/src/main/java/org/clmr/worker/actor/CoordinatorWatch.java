package org.clmr.worker.actor;

import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.ClusterEvent.CurrentClusterState;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import org.clmr.protocol.cluster.CoordinatorProtocol;

import java.time.Duration;

/**
 * Watches, on a worker's cluster node, whether a coordinator node is up and reachable. Once one has been,
 * and then none is for {@code lostAfter} (the coordinator's process died or its host rebooted), it calls
 * {@code onLost} once and stops: the worker then replaces this node by a new one that joins the seed nodes
 * again (see {@link WorkerNode}). Polls the node's membership view every {@code interval}.
 */
final class CoordinatorWatch {
    private CoordinatorWatch() {
    }

    /** The poll timer's message. */
    enum Tick {
        INSTANCE
    }

    /**
     * @param onLost called once on the actor's thread; it must only hand the work to another thread
     */
    static Behavior<Tick> create(Duration lostAfter, Duration interval, Runnable onLost) {
        return Behaviors.<Tick>setup(ctx -> Behaviors.withTimers(timers -> {
            timers.startTimerWithFixedDelay(Tick.INSTANCE, interval);
            long[] seenAt = {-1};
            return Behaviors.receiveMessage(t -> {
                long now = System.nanoTime();
                if (coordinatorReachable(Cluster.get(ctx.getSystem()).state())) {
                    seenAt[0] = now;
                } else if (seenAt[0] >= 0 && now - seenAt[0] >= lostAfter.toNanos()) {
                    ctx.getLog().warn("no coordinator node reachable for {} s: replacing this cluster node",
                            lostAfter.toSeconds());
                    onLost.run();
                    return Behaviors.stopped();
                }
                return Behaviors.same();
            });
        }));
    }

    /**
     * Whether {@code state} (a worker node's view) holds an earlier incarnation of the coordinator node at
     * {@code address} that now runs as {@code uid}: a coordinator member at that address with another UID. Such a
     * member is dead, however reachable the failure detector still thinks it, since one process binds a port.
     */
    static boolean holdsEarlierIncarnation(CurrentClusterState state, String address, long uid) {
        for (Member m : state.getMembers()) {
            if (m.hasRole(CoordinatorProtocol.COORDINATOR_ROLE) && m.address().toString().equals(address)
                    && m.uniqueAddress().longUid() != uid) {
                return true;
            }
        }
        return false;
    }

    private static boolean coordinatorReachable(CurrentClusterState state) {
        for (Member m : state.getMembers()) {
            if (m.hasRole(CoordinatorProtocol.COORDINATOR_ROLE) && m.status() == MemberStatus.up()
                    && !state.getUnreachable().contains(m)) {
                return true;
            }
        }
        return false;
    }
}

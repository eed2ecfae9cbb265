package org.clmr.protocol.cluster;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.cluster.ClusterEvent;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.UniqueAddress;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Subscribe;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Logs, on every node, what a downing decision did as this node saw it: one WARN line per decision naming the
 * downed members (role, and whether they were unreachable) and whether this node stays up or was downed itself.
 * Akka's Split Brain Resolver logs its decision only on the leader of each side; the other nodes would otherwise
 * log only that they were marked down, or nothing. Downs that reach this node within {@link #GATHER} of each
 * other (one decision spreads over a few gossip rounds) make one line; a node that is downed itself logs before
 * it stops. Runs as a system actor on the node's dispatcher.
 */
public final class DowningLog {
    private static final Logger LOG = LoggerFactory.getLogger(DowningLog.class);
    /** Downs seen within this long of the first make one line. */
    static final Duration GATHER = Duration.ofSeconds(1);

    private enum Flush { INSTANCE }

    private final Cluster cluster;
    private final TimerScheduler<Object> timers;
    private final Set<UniqueAddress> unreachable = new HashSet<>();
    private final Set<UniqueAddress> reported = new HashSet<>();
    private final Map<UniqueAddress, Member> pending = new LinkedHashMap<>();

    private DowningLog(Cluster cluster, TimerScheduler<Object> timers) {
        this.cluster = cluster;
        this.timers = timers;
    }

    /** Starts the log on {@code system}'s cluster node; call once per node, right after it is created. */
    public static void start(ActorSystem<?> system) {
        system.systemActorOf(create(), "downing-log", Props.empty());
    }

    static Behavior<Object> create() {
        return Behaviors.setup(ctx -> {
            Cluster cluster = Cluster.get(ctx.getSystem());
            cluster.subscriptions().tell(Subscribe.create(ctx.getSelf().narrow(), ClusterEvent.MemberEvent.class));
            cluster.subscriptions().tell(Subscribe.create(ctx.getSelf().narrow(),
                    ClusterEvent.ReachabilityEvent.class));
            return Behaviors.withTimers(timers -> new DowningLog(cluster, timers).behavior());
        });
    }

    private Behavior<Object> behavior() {
        return Behaviors.receive(Object.class)
                .onMessage(ClusterEvent.UnreachableMember.class, e -> {
                    unreachable.add(e.member().uniqueAddress());
                    return Behaviors.same();
                })
                .onMessage(ClusterEvent.ReachableMember.class, e -> {
                    unreachable.remove(e.member().uniqueAddress());
                    return Behaviors.same();
                })
                .onMessage(ClusterEvent.MemberDowned.class, e -> onDowned(e.member()))
                .onMessage(ClusterEvent.MemberRemoved.class, e -> e.previousStatus() == MemberStatus.down()
                        ? onDowned(e.member()) : Behaviors.same())
                .onMessageEquals(Flush.INSTANCE, this::onFlush)
                .onMessage(ClusterEvent.MemberEvent.class, e -> Behaviors.same())
                .onSignal(PostStop.class, s -> onStop())
                .build();
    }

    private Behavior<Object> onDowned(Member m) {
        if (reported.add(m.uniqueAddress())) {
            pending.put(m.uniqueAddress(), m);
            if (!timers.isTimerActive(Flush.INSTANCE)) {
                timers.startSingleTimer(Flush.INSTANCE, GATHER);
            }
        }
        return Behaviors.same();
    }

    private Behavior<Object> onFlush() {
        if (pending.isEmpty()) {
            return Behaviors.same();
        }
        Member self = cluster.selfMember();
        List<String> downed = new ArrayList<>();
        for (Member m : pending.values()) {
            downed.add(m.address() + " (" + roles(m) + ", "
                    + (unreachable.contains(m.uniqueAddress()) ? "unreachable" : "reachable") + ")");
        }
        boolean selfDowned = pending.containsKey(self.uniqueAddress()) || self.status() == MemberStatus.down();
        LOG.warn("cluster downing seen from {} ({}): downed {}; this node {}", self.address(), roles(self), downed,
                selfDowned ? "was downed and leaves the cluster" : "stays up");
        pending.clear();
        return Behaviors.same();
    }

    /** A node downed itself may stop before the timer fires: it still says so. */
    private Behavior<Object> onStop() {
        Member self = cluster.selfMember();
        if (self.status() == MemberStatus.down() && !reported.contains(self.uniqueAddress())) {
            pending.put(self.uniqueAddress(), self);
        }
        return onFlush();
    }

    private static String roles(Member m) {
        return String.join(",", m.getRoles().stream().filter(r -> !r.startsWith("dc-")).sorted().toList());
    }
}

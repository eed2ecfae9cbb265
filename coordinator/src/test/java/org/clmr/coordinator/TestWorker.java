package org.clmr.coordinator;

import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorSystem;
import org.clmr.protocol.BuildInfo;
import org.clmr.protocol.cluster.CoordinatorProtocol.HeldState;
import org.clmr.protocol.cluster.CoordinatorProtocol.Progress;
import org.clmr.protocol.cluster.CoordinatorProtocol.Register;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToWorker;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.function.Predicate;

/** A worker played by a TestProbe: builds its messages and fishes for the coordinator's. */
final class TestWorker {
    static final String DATASET = "d".repeat(64);

    final String id;
    final TestProbe<ToWorker> probe;
    final double throughput;
    private final Deque<ToWorker> skipped = new ArrayDeque<>();

    TestWorker(ActorSystem<?> system, String id, double throughput) {
        this.id = id;
        this.probe = TestProbe.create(id, ToWorker.class, system);
        this.throughput = throughput;
    }

    Register register() {
        return register(BuildInfo.protocolVersion(), DATASET);
    }

    Register register(int protocolVersion, String datasetHash) {
        return new Register(protocolVersion, id, "host-" + id, "cpu", "udp://127.0.0.1:4" + Math.abs(id.hashCode() % 1000),
                datasetHash, throughput, probe.ref());
    }

    /** A registration declaring training state held in memory. */
    Register register(HeldState held) {
        return new Register(BuildInfo.protocolVersion(), id, "host-" + id, "cpu",
                "udp://127.0.0.1:4" + Math.abs(id.hashCode() % 1000), DATASET, throughput, probe.ref(), held);
    }

    Progress progress(long generation, long step) {
        return new Progress(id, generation, step, 0, 1.0 / (step + 1), throughput, "fp" + step);
    }

    /** The oldest message of this type, received or set aside earlier; others are set aside. */
    <T extends ToWorker> T next(Class<T> type) {
        return next(type, m -> true);
    }

    /** The oldest message of this type that matches, received or set aside earlier; others are set aside. */
    <T extends ToWorker> T next(Class<T> type, Predicate<T> matches) {
        for (Iterator<ToWorker> it = skipped.iterator(); it.hasNext(); ) {
            ToWorker m = it.next();
            if (type.isInstance(m) && matches.test(type.cast(m))) {
                it.remove();
                return type.cast(m);
            }
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            Duration left = Duration.ofNanos(Math.max(1, deadline - System.nanoTime()));
            ToWorker m = probe.receiveMessage(left);
            if (type.isInstance(m) && matches.test(type.cast(m))) {
                return type.cast(m);
            }
            skipped.add(m);
        }
    }
}

package org.clmr.coordinator.desk;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import org.clmr.coordinator.desk.Decision.Tell;
import org.clmr.coordinator.journal.CoordinatorEvent;
import org.clmr.coordinator.journal.CoordinatorEvent.GenerationStarted;
import org.clmr.coordinator.journal.CoordinatorEvent.RunStarted;
import org.clmr.coordinator.journal.CoordinatorEvent.WorkerJoined;
import org.clmr.coordinator.journal.CoordinatorState;
import org.clmr.coordinator.journal.CoordinatorState.Idle;
import org.clmr.coordinator.journal.RunData;
import org.clmr.coordinator.journal.WorkerInfo;
import org.clmr.protocol.BuildInfo;
import org.clmr.protocol.cluster.CoordinatorProtocol.Progress;
import org.clmr.protocol.cluster.CoordinatorProtocol.Register;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumePoint;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToWorker;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.run.RunSpec;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * What the desks' unit tests decide on: a run built through the journal's event handler, at a fixed time.
 * The run: global batch 8, 40 tracks (5 steps per epoch), 4 epochs (20 steps), a checkpoint every 4 steps, plans
 * of at most 50 steps. Workers' refs are TestProbes' (only compared: a desk sends nothing itself).
 */
public final class DeskFixture implements AutoCloseable {
    /** The fixed clock every decision reads its time from. */
    public static final Clock CLOCK = Clock.fixed(Instant.parse("2026-03-01T12:00:00Z"), ZoneOffset.UTC);
    /** The clock's time. */
    public static final Instant NOW = CLOCK.instant();
    /** The run's dataset hash. */
    public static final String DATASET = "d".repeat(64);
    /** Plans' longest length. */
    public static final int PLAN_STEPS = 50;

    /** What the run trains. */
    public final RunSpec spec;
    private final ActorTestKit kit;

    /** A fixture with an actor system for the workers' refs; close it after the test class. */
    public DeskFixture() {
        kit = ActorTestKit.create();
        spec = RunSpec.from(ClmrConfig.load(null, List.of("run.model.preset=tiny", "run.global-batch=8",
                "run.epochs=4", "run.checkpoint.every-steps=4")));
    }

    /** A probe for messages of {@code type} (an operator's replies). */
    public <T> TestProbe<T> probe(Class<T> type) {
        return kit.createTestProbe(type);
    }

    /** A worker with its own ref, before it has a share. */
    public WorkerInfo worker(String id, double throughput) {
        TestProbe<ToWorker> probe = kit.createTestProbe(id);
        return new WorkerInfo(id, "host-" + id, "cpu", "udp://127.0.0.1:40" + id.length(), throughput, 0,
                probe.ref(), null);
    }

    /** Its registration. */
    public static Register register(WorkerInfo w) {
        return new Register(BuildInfo.protocolVersion(), w.workerId(), w.host(), w.device(), w.aeronEndpoint(),
                DATASET, w.samplesPerSecond(), w.ref());
    }

    /** Its progress report of {@code step} in {@code generation}. */
    public static Progress progress(WorkerInfo w, long generation, long step) {
        return new Progress(w.workerId(), generation, step, (int) (step / 5), 1.0 / (step + 1), w.samplesPerSecond(),
                "fp" + step);
    }

    /** Run "run-1" started, waiting for workers. */
    public CoordinatorState waiting() {
        return new Idle("no run started").apply(new RunStarted("run-1", spec, DATASET, 40, 5, NOW));
    }

    /** The run in generation 1 of these members (each its equal part of the batch), from a fresh start. */
    public CoordinatorState running(WorkerInfo... members) {
        CoordinatorState s = waiting();
        List<WorkerInfo> shared = new ArrayList<>();
        for (int i = 0; i < members.length; i++) {
            s = s.apply(new WorkerJoined(members[i], NOW));
            int share = 8 / members.length + (i < 8 % members.length ? 1 : 0);
            shared.add(members[i].withShare(share, members[i].samplesPerSecond()));
        }
        return s.apply(new GenerationStarted(1, shared, ResumePoint.fresh(), "first members", NOW));
    }

    /** The state after these events. */
    public static CoordinatorState then(CoordinatorState state, CoordinatorEvent... events) {
        CoordinatorState s = state;
        for (CoordinatorEvent e : events) {
            s = s.apply(e);
        }
        return s;
    }

    /** The run of a state that has one. */
    public static RunData run(CoordinatorState state) {
        return state.run().orElseThrow();
    }

    /** The decision's events of one type. */
    public static <E extends CoordinatorEvent> List<E> events(Decision d, Class<E> type) {
        return d.events().stream().filter(type::isInstance).map(type::cast).toList();
    }

    /** The decision's messages of one type, with their addressees. */
    public static List<Tell<?>> tells(Decision d, Class<?> type) {
        return d.tells().stream().filter(t -> type.isInstance(t.message())).toList();
    }

    /** Stops the workers' actor system. */
    @Override
    public void close() {
        kit.shutdownTestKit();
    }
}

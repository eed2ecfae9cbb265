package org.clmr.coordinator;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.clmr.coordinator.journal.CoordinatorEvent;
import org.clmr.coordinator.journal.CoordinatorEvent.GenerationStarted;
import org.clmr.coordinator.journal.CoordinatorEvent.WorkerRemoved;
import org.clmr.coordinator.journal.CoordinatorState;
import org.clmr.coordinator.journal.FailureReason;
import org.clmr.coordinator.journal.WorkerInfo;
import org.clmr.protocol.checkpoint.JdbcCheckpointStore;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointCommitted;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointRequest;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointWritten;
import org.clmr.protocol.cluster.CoordinatorProtocol.DrainWorker;
import org.clmr.protocol.cluster.CoordinatorProtocol.OperatorReply;
import org.clmr.protocol.cluster.CoordinatorProtocol.PauseRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.Plan;
import org.clmr.protocol.cluster.CoordinatorProtocol.Reconfigure;
import org.clmr.protocol.cluster.CoordinatorProtocol.Registered;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumePoint;
import org.clmr.protocol.cluster.CoordinatorProtocol.StartRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.Stop;
import org.clmr.protocol.cluster.CoordinatorProtocol.StopReason;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToCoordinator;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.run.RunSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Draining ({@link DrainWorker}) through EventSourcedBehaviorTestKit with TestProbe workers. The run: global
 * batch 8, 40 tracks (5 steps per epoch), 4 epochs, a checkpoint every 4 steps, plans of at most 2 steps.
 */
class CoordinatorDrainTest {
    private static ActorTestKit testKit;
    private static Config config;

    private EventSourcedBehaviorTestKit<ToCoordinator, CoordinatorEvent, CoordinatorState> kit;
    private JdbcCheckpointStore store;

    @BeforeAll
    static void startKit() {
        testKit = ActorTestKit.create(EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.load()));
        config = ClmrConfig.load(null, List.of("run.model.preset=tiny", "run.global-batch=8", "run.epochs=4",
                "run.checkpoint.every-steps=4", "coordinator.formation-delay=0s", "coordinator.plan-steps=2"));
    }

    @AfterAll
    static void stopKit() {
        testKit.shutdownTestKit();
    }

    @BeforeEach
    void startRun() {
        store = JdbcCheckpointStore.open("jdbc:h2:mem:drain-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "", 2);
        kit = EventSourcedBehaviorTestKit.create(testKit.system(), Coordinator.create(CoordinatorSettings.from(config),
                store, new CoordinatorMetrics(Clock.systemUTC()), Clock.systemUTC()));
        RunSpec spec = RunSpec.from(config);
        assertTrue(kit.<OperatorReply>runCommand(r -> new StartRun("run-1", spec, TestWorker.DATASET, 40, r))
                .reply().accepted());
    }

    @AfterEach
    void closeStore() {
        kit.clear();
        store.close();
    }

    private TestWorker join(String id) {
        TestWorker w = new TestWorker(testKit.system(), id, 100);
        kit.runCommand(w.register());
        w.next(Registered.class);
        return w;
    }

    private OperatorReply drain(String id) {
        return kit.<OperatorReply>runCommand(r -> new DrainWorker(id, r)).reply();
    }

    @Test
    void shouldLetADrainedMemberLeaveAtThePlanBoundaryWhileTheOthersGoOnFromThatStep() {
        TestWorker a = join("a");
        kit.runCommand(a.progress(1, 2));
        TestWorker b = join("b");
        kit.runCommand(a.progress(1, 4));
        assertEquals(2, kit.getState().generation());
        OperatorReply reply = drain("a");
        assertTrue(reply.accepted() && reply.message().contains("step 5"), reply.message());
        assertTrue(drain("a").accepted(), "a repeated request is answered the same");
        assertTrue(kit.runCommand(a.progress(2, 5)).hasNoEvents(), "a draining member does not broadcast");
        var boundary = kit.runCommand(b.progress(2, 5));
        WorkerRemoved removed = (WorkerRemoved) boundary.events().stream().filter(WorkerRemoved.class::isInstance)
                .findFirst().orElseThrow();
        assertEquals(new WorkerRemoved("a", FailureReason.DRAINED, removed.at()), removed);
        GenerationStarted g = (GenerationStarted) boundary.events().stream()
                .filter(GenerationStarted.class::isInstance).findFirst().orElseThrow();
        assertEquals(3, g.generation());
        assertEquals(List.of("b"), g.members().stream().map(WorkerInfo::workerId).toList());
        assertEquals(ResumePoint.fromRank(5, 1, 0), g.resume());
        assertEquals(StopReason.DRAINED, a.next(Stop.class).reason());
        assertEquals(3, b.next(Reconfigure.class, r -> r.generation() == 3).generation());
        assertEquals(new Plan(3, 5, 6), b.next(Plan.class, p -> p.generation() == 3));
    }

    @Test
    void shouldRefuseToDrainAnUnknownWorker() {
        TestWorker a = join("a");
        OperatorReply unknown = drain("nobody");
        assertFalse(unknown.accepted());
        assertTrue(unknown.message().contains("[a]"), unknown.message());
        assertTrue(kit.runCommand(a.progress(1, 1)).events().isEmpty());
    }

    @Test
    void shouldCheckpointTheLastMembersStepBeforeItLeavesAndThenWaitForWorkersThere() {
        TestWorker a = join("a");
        OperatorReply last = drain("a");
        assertTrue(last.accepted() && last.message().contains("last member"), last.message());
        kit.runCommand(a.progress(1, 1));
        kit.runCommand(a.progress(1, 2));
        CheckpointRequest request = a.next(CheckpointRequest.class);
        assertEquals(2, request.step(), "the checkpoint of the step it holds at the plan boundary");
        assertTrue(kit.<OperatorReply>runCommand(r -> new DrainWorker("a", r)).events().isEmpty(),
                "it stays until it is saved");
        CheckpointRecord record = store.write("run-1", 2, 0, request.generation(), RunSpec.from(config).hash(),
                "weights at 2".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        kit.runCommand(new CheckpointWritten("a", request.generation(), request.checkpointId(), record));
        a.next(CheckpointCommitted.class);
        var leaves = kit.<OperatorReply>runCommand(r -> new DrainWorker("a", r));
        assertTrue(leaves.reply().accepted() && leaves.reply().message().contains("step 2"), leaves.reply().message());
        assertEquals(StopReason.DRAINED, a.next(Stop.class).reason());
        CoordinatorState after = kit.getState();
        assertEquals("WAITING_FOR_WORKERS", after.phase().name());
        assertEquals(2, after.run().orElseThrow().lastCheckpoint().step(), "the run waits for workers at step 2");
        TestWorker b = join("b");
        assertEquals(ResumePoint.fromCheckpoint(record), b.next(Reconfigure.class).resume());
    }

    @Test
    void shouldDrainAJoinerOrAMemberOfAPausedRunAtOnce() {
        TestWorker a = join("a");
        TestWorker b = join("b");
        assertEquals(List.of("b"), kit.getState().run().orElseThrow().pending().stream()
                .map(WorkerInfo::workerId).toList());
        assertTrue(drain("b").accepted());
        assertEquals(StopReason.DRAINED, b.next(Stop.class).reason());
        assertTrue(kit.getState().run().orElseThrow().pending().isEmpty());
        assertTrue(kit.<OperatorReply>runCommand(PauseRun::new).reply().accepted());
        OperatorReply paused = drain("a");
        assertTrue(paused.accepted(), paused.message());
        assertEquals(StopReason.DRAINED, a.next(Stop.class).reason());
        assertTrue(kit.getState().run().orElseThrow().members().isEmpty());
    }
}

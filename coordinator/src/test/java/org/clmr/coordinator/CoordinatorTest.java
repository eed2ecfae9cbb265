package org.clmr.coordinator;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import akka.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.clmr.coordinator.journal.CoordinatorEvent;
import org.clmr.coordinator.journal.CoordinatorEvent.EpochCompleted;
import org.clmr.coordinator.journal.CoordinatorEvent.GenerationStarted;
import org.clmr.coordinator.journal.CoordinatorEvent.RunCompleted;
import org.clmr.coordinator.journal.CoordinatorEvent.RunStarted;
import org.clmr.coordinator.journal.CoordinatorEvent.WorkerJoined;
import org.clmr.coordinator.journal.CoordinatorEvent.WorkerRemoved;
import org.clmr.coordinator.journal.CoordinatorState;
import org.clmr.coordinator.journal.FailureReason;
import org.clmr.coordinator.journal.RunData;
import org.clmr.coordinator.journal.RunPhase;
import org.clmr.coordinator.journal.WorkerInfo;
import org.clmr.protocol.BuildInfo;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.checkpoint.JdbcCheckpointStore;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointRequest;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointWritten;
import org.clmr.protocol.cluster.CoordinatorProtocol.GetStatus;
import org.clmr.protocol.cluster.CoordinatorProtocol.HeldState;
import org.clmr.protocol.cluster.CoordinatorProtocol.Leave;
import org.clmr.protocol.cluster.CoordinatorProtocol.OperatorReply;
import org.clmr.protocol.cluster.CoordinatorProtocol.PauseRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.PeerTimeout;
import org.clmr.protocol.cluster.CoordinatorProtocol.Plan;
import org.clmr.protocol.cluster.CoordinatorProtocol.Reconfigure;
import org.clmr.protocol.cluster.CoordinatorProtocol.RefusalReason;
import org.clmr.protocol.cluster.CoordinatorProtocol.RegisterRefused;
import org.clmr.protocol.cluster.CoordinatorProtocol.Registered;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumePoint;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumeRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.StartRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.Status;
import org.clmr.protocol.cluster.CoordinatorProtocol.Stop;
import org.clmr.protocol.cluster.CoordinatorProtocol.StopReason;
import org.clmr.protocol.cluster.CoordinatorProtocol.StopRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToCoordinator;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToWorker;
import org.clmr.protocol.config.ClmrConfig;
import org.clmr.protocol.run.RunSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The coordinator's transitions through EventSourcedBehaviorTestKit (in-memory journal, serialization of
 * every command, event and state checked), with TestProbe workers and a real JDBC checkpoint store on H2.
 * The run: global batch 8, 40 tracks (5 steps per epoch), 4 epochs (20 steps), a checkpoint every 4 steps.
 * Timers (formation delay, peer-timeout window) run on Akka's ManualTime: time passes when a test says so.
 */
class CoordinatorTest {
    private static ActorTestKit testKit;
    private static ManualTime manualTime;
    private static Config config;

    private EventSourcedBehaviorTestKit<ToCoordinator, CoordinatorEvent, CoordinatorState> kit;
    private JdbcCheckpointStore store;
    private RunSpec spec;

    @BeforeAll
    static void startKit() {
        testKit = ActorTestKit.create(ManualTime.config().withFallback(EventSourcedBehaviorTestKit.config())
                .withFallback(ConfigFactory.load()));
        manualTime = ManualTime.get(testKit.system());
        config = ClmrConfig.load(null, List.of("run.model.preset=tiny", "run.global-batch=8", "run.epochs=4",
                "run.checkpoint.every-steps=4", "coordinator.formation-delay=0s", "coordinator.plan-steps=50",
                "coordinator.max-checkpoint-failures=3", "coordinator.peer-timeout-window=0s"));
    }

    @AfterAll
    static void stopKit() {
        testKit.shutdownTestKit();
    }

    private CoordinatorMetrics metrics;

    @BeforeEach
    void createCoordinator() {
        store = JdbcCheckpointStore.open("jdbc:h2:mem:ck-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "", 2);
        spec = RunSpec.from(config);
        metrics = new CoordinatorMetrics(Clock.systemUTC());
        kit = coordinator(config, metrics);
    }

    /** A fresh coordinator on this test's store, configured by {@code c}. */
    private EventSourcedBehaviorTestKit<ToCoordinator, CoordinatorEvent, CoordinatorState> coordinator(
            Config c, CoordinatorMetrics m) {
        return EventSourcedBehaviorTestKit.create(testKit.system(), Coordinator.create(CoordinatorSettings.from(c),
                store, m, Clock.systemUTC()));
    }

    private double metric(String name) {
        for (var snapshot : metrics.registry().scrape()) {
            if (snapshot.getMetadata().getPrometheusName().equals(name)) {
                double sum = 0;
                for (var point : snapshot.getDataPoints()) {
                    if (point instanceof io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot c) {
                        sum += c.getValue();
                    } else if (point instanceof io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot g) {
                        sum += g.getValue();
                    }
                }
                return sum;
            }
        }
        throw new AssertionError("no metric " + name);
    }

    @Test
    void shouldCountMembersEventsRejectionsAndWeightDivergence() {
        startRun();
        TestWorker a = join("a", 100);
        TestWorker b = join("b", 100);
        kit.runCommand(a.progress(1, 4));
        assertEquals(2, metric("clmr_members"));
        assertEquals(2, metric("clmr_generation"));
        assertEquals(8, metric("clmr_member_share_tracks"));
        assertEquals(5, metric("clmr_events_persisted"));
        kit.runCommand(a.register(BuildInfo.protocolVersion() + 1, TestWorker.DATASET));
        assertEquals(1, metric("clmr_registrations_rejected"));
        kit.runCommand(a.progress(2, 5));
        kit.runCommand(new org.clmr.protocol.cluster.CoordinatorProtocol.Progress("b", 2, 5, 1, 0.2, 100, "other"));
        assertEquals(1, metric("clmr_weight_divergence"));
    }

    @Test
    void shouldNotCompareANewRunsWeightsWithThoseOfAPreviousRun() {
        startRun();
        TestWorker a = join("a", 100);
        kit.runCommand(a.progress(1, 3));
        assertTrue(kit.<OperatorReply>runCommand(StopRun::new).reply().accepted());
        OperatorReply again = kit.<OperatorReply>runCommand(
                replyTo -> new StartRun("run-2", spec, TestWorker.DATASET, 40, replyTo)).reply();
        assertTrue(again.accepted(), again.message());
        join("c", 100);
        kit.runCommand(new org.clmr.protocol.cluster.CoordinatorProtocol.Progress("c", 1, 3, 0, 0.2, 100, "other"));
        assertEquals(0, metric("clmr_weight_divergence"));
    }

    @AfterEach
    void closeStore() {
        kit.clear();
        store.close();
    }

    private void startRun() {
        CommandResultWithReply<ToCoordinator, CoordinatorEvent, CoordinatorState, OperatorReply> r =
                kit.runCommand(replyTo -> new StartRun("run-1", spec, TestWorker.DATASET, 40, replyTo));
        assertTrue(r.reply().accepted(), r.reply().message());
        RunStarted started = event(r, RunStarted.class);
        assertEquals(5, started.stepsPerEpoch());
        assertEquals(RunPhase.WAITING_FOR_WORKERS, r.state().phase());
    }

    private TestWorker join(String id, double throughput) {
        TestWorker w = new TestWorker(testKit.system(), id, throughput);
        kit.runCommand(w.register());
        w.next(Registered.class);
        return w;
    }

    private static <E extends CoordinatorEvent> E event(
            EventSourcedBehaviorTestKit.CommandResult<ToCoordinator, CoordinatorEvent, CoordinatorState> result,
            Class<E> type) {
        return result.events().stream().filter(type::isInstance).map(type::cast).findFirst()
                .orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " in " + result.events()));
    }

    private RunData run() {
        return kit.getState().run().orElseThrow();
    }

    private CheckpointRecord writeCheckpoint(long step, long generation) {
        return store.write("run-1", step, (int) (step / 5), generation, spec.hash(),
                ("weights at " + step).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void shouldRefuseRegistrationWithoutARunOrWithAWrongVersionOrDataset() {
        TestWorker w = new TestWorker(testKit.system(), "w", 100);
        kit.runCommand(w.register());
        assertEquals(RefusalReason.NO_RUN, w.next(RegisterRefused.class).reason());
        startRun();
        kit.runCommand(w.register(BuildInfo.protocolVersion() + 1, TestWorker.DATASET));
        RegisterRefused version = w.next(RegisterRefused.class);
        assertEquals(RefusalReason.PROTOCOL_VERSION, version.reason());
        assertTrue(version.message().contains("protocol " + (BuildInfo.protocolVersion() + 1)), version.message());
        var r = kit.runCommand(w.register(BuildInfo.protocolVersion(), "e".repeat(64)));
        assertTrue(r.hasNoEvents());
        RegisterRefused dataset = w.next(RegisterRefused.class);
        assertEquals(RefusalReason.DATASET_MISMATCH, dataset.reason());
        // the worker hears that its own dataset differs, never the run's hash (issue #17: a refusal leaked it)
        assertTrue(dataset.message().contains("eeee") && dataset.message().contains("differs"), dataset.message());
        assertFalse(dataset.message().contains("dddd"), dataset.message());
        assertEquals(RunPhase.WAITING_FOR_WORKERS, kit.getState().phase());
    }

    @Test
    void shouldStartTheFirstGenerationFreshWhenTheFirstWorkerRegisters() {
        startRun();
        TestWorker a = new TestWorker(testKit.system(), "a", 100);
        var r = kit.runCommand(a.register());
        assertInstanceOf(WorkerJoined.class, r.events().get(0));
        GenerationStarted g = (GenerationStarted) r.events().get(1);
        assertEquals(1, g.generation());
        assertEquals(ResumePoint.fresh(), g.resume());
        assertEquals(RunPhase.RUNNING, r.state().phase());
        Reconfigure reconfigure = a.next(Reconfigure.class);
        assertEquals(8, reconfigure.members().get(0).share());
        assertEquals(new Plan(1, 0, 4), a.next(Plan.class));
    }

    @Test
    void shouldAddAWorkerThatRegistersWhileRunningAtTheNextBoundary() {
        startRun();
        TestWorker a = join("a", 300);
        TestWorker b = new TestWorker(testKit.system(), "b", 100);
        var r = kit.runCommand(b.register());
        assertEquals(1, r.events().size());
        assertEquals(1, run().generation());
        assertEquals(List.of("b"), run().pending().stream().map(WorkerInfo::workerId).toList());
        for (int step = 1; step <= 3; step++) {
            assertTrue(kit.runCommand(a.progress(1, step)).hasNoEvents());
        }
        var boundary = kit.runCommand(a.progress(1, 4));
        GenerationStarted g = event(boundary, GenerationStarted.class);
        assertEquals(2, g.generation());
        assertEquals(List.of("a", "b"), g.members().stream().map(WorkerInfo::workerId).toList());
        assertEquals(ResumePoint.fromRank(4, 0, 0), g.resume());
        assertEquals(8, g.members().get(0).share() + g.members().get(1).share());
        assertTrue(g.members().get(0).share() > g.members().get(1).share(), g.members().toString());
        Reconfigure ra = a.next(Reconfigure.class, m -> m.generation() == 2);
        assertEquals(List.of("a", "b"), ra.members().stream().map(m -> m.workerId()).toList());
        assertEquals(new CheckpointRequest(2, 1, 4), a.next(CheckpointRequest.class));
        assertEquals(new Plan(2, 4, 5), a.next(Plan.class, p -> p.generation() == 2));
        assertEquals(2, b.next(Reconfigure.class).generation());
        assertEquals(new Plan(2, 4, 5), b.next(Plan.class));
    }

    @Test
    void shouldStartANewGenerationWithSurvivorsFromTheHighestCompletedStepWhenAWorkerIsLost() {
        startRun();
        TestWorker a = join("a", 100);
        TestWorker b = join("b", 100);
        TestWorker c = join("c", 100);
        kit.runCommand(a.progress(1, 4));
        assertEquals(2, run().generation());
        kit.runCommand(a.progress(2, 6));
        kit.runCommand(b.progress(2, 7));
        kit.runCommand(c.progress(2, 6));
        c.probe.stop();
        testKit.createTestProbe().awaitAssert(() -> {
            assertEquals(3, run().generation());
            return null;
        });
        RunData data = run();
        assertEquals(List.of("a", "b"), data.members().stream().map(WorkerInfo::workerId).toList());
        assertEquals(ResumePoint.fromRank(7, 1, 1), data.resume());
        assertEquals(new Plan(3, 7, 8), b.next(Plan.class, p -> p.generation() == 3));

        // a peer's timeout report: b says rank 0 (a) was silent at step 8; a is evicted and told to stop
        kit.runCommand(b.progress(3, 8));
        var stale = kit.runCommand(new PeerTimeout("b", 2, 8, List.of(0)));
        assertTrue(stale.hasNoEvents());
        var lost = kit.runCommand(new PeerTimeout("b", 3, 8, List.of(0)));
        assertEquals(FailureReason.PEER_TIMEOUT, event(lost, WorkerRemoved.class).reason());
        GenerationStarted g = event(lost, GenerationStarted.class);
        assertEquals(List.of("b"), g.members().stream().map(WorkerInfo::workerId).toList());
        assertEquals(ResumePoint.fromRank(8, 1, 0), g.resume());
        assertEquals(StopReason.REMOVED, a.next(Stop.class).reason());
    }

    /**
     * The incident seen in RecoveryClusterTest: c was killed mid-step; a found rank 2 (c) silent and abandoned
     * the step, closing its links, so b found rank 0 (a) silent too, and b's report came first. Deciding on
     * the first report evicted the healthy a and kept the dead c. With the window, both reporters count as
     * alive and only c goes.
     */
    @Test
    void shouldEvictOnlyTheSilentRankThatDidNotReportItselfWhenReportsBlameEachOther() {
        Config windowed = ClmrConfig.load(null, List.of("run.model.preset=tiny", "run.global-batch=8", "run.epochs=4",
                "run.checkpoint.every-steps=4", "coordinator.formation-delay=0s",
                "coordinator.peer-timeout-window=300ms"));
        kit = coordinator(windowed, new CoordinatorMetrics(Clock.systemUTC()));
        startRun();
        TestWorker a = join("a", 100);
        TestWorker b = join("b", 100);
        TestWorker c = join("c", 100);
        kit.runCommand(a.progress(1, 4));
        assertEquals(List.of("a", "b", "c"), run().members().stream().map(WorkerInfo::workerId).toList());
        long generation = run().generation();

        assertTrue(kit.runCommand(new PeerTimeout("b", generation, 5, List.of(0))).hasNoEvents(), "gathered, not acted on");
        assertTrue(kit.runCommand(new PeerTimeout("a", generation, 5, List.of(2))).hasNoEvents());
        manualTime.timePasses(Duration.ofMillis(300));
        testKit.createTestProbe().awaitAssert(() -> {
            assertEquals(generation + 1, run().generation());
            return null;
        });
        assertEquals(List.of("a", "b"), run().members().stream().map(WorkerInfo::workerId).toList());
        assertEquals(StopReason.REMOVED, c.next(Stop.class).reason());
    }

    @Test
    void shouldCommitACheckpointOnlyAfterItIsVerified() {
        startRun();
        TestWorker a = join("a", 100);
        kit.runCommand(a.progress(1, 4));
        CheckpointRequest request = a.next(CheckpointRequest.class);
        assertEquals(4, request.step());
        // rank 0 claims a checkpoint the store does not hold: never committed
        CheckpointRecord bogus = new CheckpointRecord("run-1", 4, 0, 1, 10, "0".repeat(64), Instant.now(), spec.hash(),
                "jdbc:nowhere");
        assertTrue(kit.runCommand(new CheckpointWritten("a", 1, request.checkpointId(), bogus)).hasNoEvents());
        kit.runCommand(a.progress(1, 5));
        kit.runCommand(a.progress(1, 8));
        CheckpointRequest again = a.next(CheckpointRequest.class);
        assertEquals(8, again.step());
        assertNull(run().lastCheckpoint());
        // a record whose SHA-256 differs from the stored payload's: not committed either
        CheckpointRecord real = writeCheckpoint(8, 1);
        CheckpointRecord tampered = new CheckpointRecord(real.runId(), real.step(), real.epoch(), real.generation(),
                real.sizeBytes(), "f".repeat(64), real.createdAt(), real.runSpecHash(), real.location());
        kit.runCommand(new CheckpointWritten("a", 1, again.checkpointId(), tampered));
        kit.runCommand(a.progress(1, 10));
        kit.runCommand(a.progress(1, 12));
        CheckpointRequest third = a.next(CheckpointRequest.class);
        assertEquals(12, third.step());
        assertNull(run().lastCheckpoint());
        // a verified one is committed and announced
        CheckpointRecord good = writeCheckpoint(12, 1);
        kit.runCommand(new CheckpointWritten("a", 1, third.checkpointId(), good));
        var committed = a.next(org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointCommitted.class);
        assertEquals(good, committed.record());
        assertEquals(good, run().lastCheckpoint());
        assertEquals(12, run().committedStep());
        var duplicate = kit.runCommand(new CheckpointWritten("a", 1, third.checkpointId(), good));
        assertTrue(duplicate.hasNoEvents());
    }

    @Test
    void shouldWaitWhenEveryWorkerIsGoneAndResumeFromTheCommittedCheckpoint() {
        startRun();
        TestWorker a = join("a", 100);
        kit.runCommand(a.progress(1, 4));
        CheckpointRequest request = a.next(CheckpointRequest.class);
        CheckpointRecord good = writeCheckpoint(4, 1);
        kit.runCommand(new CheckpointWritten("a", 1, request.checkpointId(), good));
        a.next(org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointCommitted.class);
        kit.runCommand(a.progress(1, 5));
        kit.runCommand(a.progress(1, 6));
        var left = kit.runCommand(new Leave("a", 1, "shutdown"));
        assertEquals(List.of(new WorkerRemoved("a", FailureReason.LEFT, event(left, WorkerRemoved.class).at())),
                left.events());
        assertEquals(RunPhase.WAITING_FOR_WORKERS, left.state().phase());
        TestWorker b = join("b", 100);
        Reconfigure reconfigure = b.next(Reconfigure.class);
        assertEquals(2, reconfigure.generation());
        assertEquals(ResumePoint.fromCheckpoint(good), reconfigure.resume());
        assertEquals(new Plan(2, 4, 5), b.next(Plan.class));
    }

    @Test
    void shouldClassifyStaleAndDuplicateProgressAndResendALostPlan() {
        startRun();
        TestWorker a = join("a", 100);
        kit.runCommand(a.progress(1, 4));
        join("b", 100);
        assertEquals(1, run().generation());
        kit.runCommand(a.progress(1, 5));
        assertEquals(2, run().generation());
        assertEquals(new Plan(2, 5, 8), a.next(Plan.class, p -> p.generation() == 2));
        assertTrue(kit.runCommand(a.progress(1, 6)).hasNoEvents());
        manualTime.expectNoMessageFor(Duration.ofMillis(100), a.probe);
        kit.runCommand(a.progress(2, 8));
        assertEquals(new Plan(2, 8, 10), a.next(Plan.class, p -> p.fromStep() == 8));
        kit.runCommand(a.progress(2, 8));
        assertEquals(new Plan(2, 8, 10), a.next(Plan.class, p -> p.fromStep() == 8));
    }

    @Test
    void shouldPauseResumeAndStopOnOperatorCommands() {
        startRun();
        TestWorker a = join("a", 100);
        kit.runCommand(a.progress(1, 3));
        var paused = kit.<OperatorReply>runCommand(PauseRun::new);
        assertTrue(paused.reply().accepted());
        assertEquals(RunPhase.PAUSED, paused.state().phase());
        assertFalse(kit.<OperatorReply>runCommand(PauseRun::new).reply().accepted());
        kit.runCommand(a.progress(1, 4));
        manualTime.expectNoMessageFor(Duration.ofMillis(100), a.probe);
        var resumed = kit.<OperatorReply>runCommand(ResumeRun::new);
        assertTrue(resumed.reply().accepted());
        GenerationStarted g = event(resumed, GenerationStarted.class);
        assertEquals(ResumePoint.fromRank(4, 0, 0), g.resume());
        assertEquals(new Plan(2, 4, 5), a.next(Plan.class, p -> p.generation() == 2));
        var stopped = kit.<OperatorReply>runCommand(StopRun::new);
        assertEquals(RunPhase.COMPLETED, stopped.state().phase());
        assertEquals(StopReason.STOPPED, a.next(Stop.class).reason());
        TestWorker late = new TestWorker(testKit.system(), "late", 100);
        kit.runCommand(late.register());
        assertEquals(RefusalReason.RUN_COMPLETED, late.next(RegisterRefused.class).reason());
    }

    @Test
    void shouldCompleteEpochsAndFinishTheRun() {
        startRun();
        TestWorker a = join("a", 100);
        var epoch = kit.runCommand(a.progress(1, 5));
        assertEquals(0, event(epoch, EpochCompleted.class).epoch());
        assertEquals(1, run().committedEpoch());
        for (long step : new long[] {8, 10, 12, 15, 16}) {
            kit.runCommand(a.progress(1, step));
        }
        assertEquals(3, run().committedEpoch());
        var last = kit.runCommand(a.progress(1, 20));
        assertEquals(3, event(last, EpochCompleted.class).epoch());
        assertEquals(RunPhase.RUNNING, last.state().phase(), "the run's end waits for its final checkpoint");
        CheckpointRequest request = a.next(CheckpointRequest.class, c -> c.step() == 20);
        assertTrue(kit.runCommand(a.progress(1, 20)).hasNoEvents(), "a repeated report asks nothing new");
        kit.runCommand(new CheckpointWritten("a", 1, request.checkpointId(), writeCheckpoint(20, 1)));
        testKit.createTestProbe().awaitAssert(() -> {
            assertEquals(RunPhase.COMPLETED, kit.getState().phase());
            return null;
        });
        assertEquals(20, run().lastCheckpoint().step());
        assertEquals(StopReason.FINISHED, a.next(Stop.class).reason());
        Status status = kit.<Status>runCommand(GetStatus::new).reply();
        assertEquals("COMPLETED", status.phase());
        assertEquals(20, status.committedStep());
    }

    @Test
    void shouldRecoverTheSameStateFromTheJournalAfterARestart() {
        startRun();
        TestWorker a = join("a", 100);
        join("b", 50);
        kit.runCommand(a.progress(1, 4));
        CheckpointRequest request = a.next(CheckpointRequest.class);
        kit.runCommand(new CheckpointWritten("a", 2, request.checkpointId(), writeCheckpoint(4, 2)));
        testKit.createTestProbe().awaitAssert(() -> {
            assertEquals(4, run().lastCheckpoint().step());
            return null;
        });
        CoordinatorState before = kit.getState();
        var restarted = kit.restart();
        assertEquals(before, restarted.state());
        Status status = kit.<Status>runCommand(GetStatus::new).reply();
        assertEquals("RUNNING", status.phase());
        assertEquals(2, status.generation());
        assertEquals(4, status.lastCheckpoint().step());
    }

    @Test
    void shouldRebalanceSharesAtAPlanBoundaryWhenThroughputDiverges() {
        startRun();
        TestWorker a = join("a", 100);
        TestWorker b = join("b", 100);
        kit.runCommand(a.progress(1, 4));
        assertEquals(List.of(4, 4), run().members().stream().map(WorkerInfo::share).toList());
        // a reports 900 samples/s: its EMA (alpha 0.2) rises to 260, enough to re-split at the epoch end (step 5)
        var r = kit.runCommand(new org.clmr.protocol.cluster.CoordinatorProtocol.Progress("a", 2, 5, 1, 1.0, 900, "f"));
        GenerationStarted g = event(r, GenerationStarted.class);
        assertTrue(g.reason().contains("re-balanced"), g.reason());
        assertTrue(g.members().get(0).share() > g.members().get(1).share(), g.members().toString());
        assertEquals(List.of(6, 2), g.members().stream().map(WorkerInfo::share).toList());
        assertEquals(ResumePoint.fromRank(5, 1, 0), g.resume());
        assertEquals(2, b.next(Reconfigure.class, m -> m.generation() == 3).members().get(1).share());
    }

    @Test
    void shouldReplaceAWorkerThatRegistersAgainFromANewIncarnation() {
        startRun();
        TestWorker a = join("a", 100);
        TestWorker b = join("b", 100);
        kit.runCommand(a.progress(1, 4));
        kit.runCommand(a.progress(2, 6));
        TestWorker b2 = new TestWorker(testKit.system(), "b", 100);
        var r = kit.runCommand(b2.register());
        assertEquals(FailureReason.RESTARTED, event(r, WorkerRemoved.class).reason());
        GenerationStarted g = event(r, GenerationStarted.class);
        assertEquals(3, g.generation());
        assertEquals(b2.probe.ref(), g.members().get(1).ref());
        assertEquals(ResumePoint.fromRank(6, 1, 0), g.resume());
        assertEquals(StopReason.REMOVED, b.next(Stop.class).reason());
        assertEquals(3, b2.next(Reconfigure.class).generation());
        var again = kit.runCommand(b2.register());
        assertTrue(again.hasNoEvents(), "a duplicate registration changes nothing");
    }

    @Test
    void shouldGatherRegistrationsDuringTheFormationDelay() {
        Config slow = ClmrConfig.load(null, List.of("run.model.preset=tiny", "run.global-batch=8", "run.epochs=4",
                "coordinator.formation-delay=300ms"));
        kit = coordinator(slow, new CoordinatorMetrics(Clock.systemUTC()));
        startRun();
        TestWorker a = new TestWorker(testKit.system(), "a", 100);
        TestWorker b = new TestWorker(testKit.system(), "b", 100);
        assertEquals(1, kit.runCommand(a.register()).events().size());
        assertEquals(1, kit.runCommand(b.register()).events().size());
        assertEquals(RunPhase.WAITING_FOR_WORKERS, kit.getState().phase());
        manualTime.timePasses(Duration.ofMillis(300));
        Reconfigure first = a.next(Reconfigure.class);
        assertEquals(1, first.generation());
        assertEquals(2, first.members().size());
        assertEquals(RunPhase.RUNNING, kit.getState().phase());
    }
    /** Commits a checkpoint of step 4 asked of a (rank 0) in generation {@code generation}. */
    private CheckpointRecord commitCheckpointAt4(TestWorker a, long generation) {
        CheckpointRequest request = a.next(CheckpointRequest.class);
        assertEquals(4, request.step());
        CheckpointRecord good = writeCheckpoint(4, generation);
        kit.runCommand(new CheckpointWritten("a", generation, request.checkpointId(), good));
        a.next(org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointCommitted.class);
        return good;
    }

    @Test
    void shouldResumeFromMembersStateOfAnEarlierGenerationInsteadOfRollingBackToTheCheckpoint() {
        startRun();
        TestWorker a = join("a", 100);
        TestWorker b = join("b", 100);
        kit.runCommand(a.progress(1, 4));
        commitCheckpointAt4(a, 2);
        TestWorker c = join("c", 100);
        kit.runCommand(a.progress(2, 7));
        kit.runCommand(b.progress(2, 7));
        var joined = kit.runCommand(a.progress(2, 8));
        assertEquals(3, event(joined, GenerationStarted.class).generation());
        // generation 3 (a, b, c) loses c before any member reported in it: a still holds step 8
        c.probe.stop();
        testKit.createTestProbe().awaitAssert(() -> {
            assertEquals(4, run().generation());
            return null;
        });
        assertEquals(ResumePoint.fromRank(8, 1, 0), run().resume());
        assertEquals(4, run().lastCheckpoint().step());
    }

    @Test
    void shouldPassOverAStepWhoseHoldersDisagreeOnTheWeights() {
        startRun();
        TestWorker a = join("a", 100);
        TestWorker b = join("b", 100);
        TestWorker c = join("c", 100);
        kit.runCommand(a.progress(1, 4));
        CheckpointRecord good = commitCheckpointAt4(a, 2);
        kit.runCommand(a.progress(2, 6));
        kit.runCommand(new org.clmr.protocol.cluster.CoordinatorProtocol.Progress("b", 2, 6, 1, 0.2, 100, "other"));
        c.probe.stop();
        testKit.createTestProbe().awaitAssert(() -> {
            assertEquals(3, run().generation());
            return null;
        });
        assertEquals(ResumePoint.fromCheckpoint(good), run().resume());
        assertEquals(ResumePoint.fromCheckpoint(good), b.next(Reconfigure.class, m -> m.generation() == 3).resume());
    }

    @Test
    void shouldResumeFromTheStateARegisteringWorkerHoldsAndRememberItAcrossARestart() {
        Config slow = ClmrConfig.load(null, List.of("run.model.preset=tiny", "run.global-batch=8", "run.epochs=4",
                "run.checkpoint.every-steps=4", "coordinator.formation-delay=300ms"));
        kit = coordinator(slow, new CoordinatorMetrics(Clock.systemUTC()));
        startRun();
        TestWorker a = new TestWorker(testKit.system(), "a", 100);
        TestWorker other = new TestWorker(testKit.system(), "other-run", 100);
        kit.runCommand(a.register(new HeldState("run-1", spec.hash(), 6, "fp6")));
        kit.runCommand(other.register(new HeldState("run-0", spec.hash(), 9, "fp9")));
        // the coordinator restarts before the generation forms: the held states come back from the journal
        kit.restart();
        assertEquals(6, run().joiner("a").or(() -> run().member("a")).orElseThrow().held().step());
        Reconfigure first = a.next(Reconfigure.class);
        assertEquals(1, first.generation());
        assertEquals(ResumePoint.fromRank(6, 1, 0), first.resume(), "the other run's step 9 is not a candidate");
        assertEquals(new Plan(1, 6, 8), a.next(Plan.class));
    }
    @Test
    void shouldCompleteWithoutAFinalCheckpointThatCannotBeWritten() {
        startRun();
        TestWorker a = join("a", 100);
        kit.runCommand(a.progress(1, 20));
        CheckpointRequest request = a.next(CheckpointRequest.class, c -> c.step() == 20);
        var failed = kit.runCommand(new org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointFailed("a", 1,
                request.checkpointId(), 20, "disk full"));
        assertEquals(StopReason.FINISHED, event(failed, RunCompleted.class).reason());
        assertEquals(StopReason.FINISHED, a.next(Stop.class).reason());
    }
}

package org.clmr.coordinator.membership;

import org.clmr.coordinator.desk.Classification;
import org.clmr.coordinator.desk.Decision;
import org.clmr.coordinator.desk.DeskFixture;
import org.clmr.coordinator.journal.CoordinatorEvent;
import org.clmr.coordinator.journal.CoordinatorEvent.GenerationStarted;
import org.clmr.coordinator.journal.CoordinatorEvent.RunCompleted;
import org.clmr.coordinator.journal.CoordinatorEvent.WorkerJoined;
import org.clmr.coordinator.journal.CoordinatorEvent.WorkerRemoved;
import org.clmr.coordinator.journal.CoordinatorState;
import org.clmr.coordinator.journal.CoordinatorState.Idle;
import org.clmr.coordinator.journal.FailureReason;
import org.clmr.coordinator.journal.WorkerInfo;
import org.clmr.coordinator.plan.ProgressTracker;
import org.clmr.coordinator.plan.RunPlanner;
import org.clmr.protocol.BuildInfo;
import org.clmr.protocol.cluster.CoordinatorProtocol.Leave;
import org.clmr.protocol.cluster.CoordinatorProtocol.Reconfigure;
import org.clmr.protocol.cluster.CoordinatorProtocol.RefusalReason;
import org.clmr.protocol.cluster.CoordinatorProtocol.Register;
import org.clmr.protocol.cluster.CoordinatorProtocol.RegisterRefused;
import org.clmr.protocol.cluster.CoordinatorProtocol.Registered;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumePoint;
import org.clmr.protocol.cluster.CoordinatorProtocol.Stop;
import org.clmr.protocol.cluster.CoordinatorProtocol.StopReason;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToWorker;
import org.clmr.protocol.wire.FrameKey;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.clmr.coordinator.desk.DeskFixture.NOW;
import static org.clmr.coordinator.desk.DeskFixture.events;
import static org.clmr.coordinator.desk.DeskFixture.register;
import static org.clmr.coordinator.desk.DeskFixture.run;
import static org.clmr.coordinator.desk.DeskFixture.tells;
import static org.clmr.coordinator.desk.DeskFixture.then;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdmissionTest {
    private static DeskFixture fixture;

    @BeforeAll
    static void start() {
        fixture = new DeskFixture();
    }

    @AfterAll
    static void stop() {
        fixture.close();
    }

    private static Admission admission(boolean formsAtOnce) {
        return new Admission(new RunPlanner(DeskFixture.PLAN_STEPS, 0.1, new ProgressTracker(0.2)), formsAtOnce,
                ref -> true);
    }

    private static RegisterRefused refusal(Decision d) {
        assertTrue(d.events().isEmpty(), d.events().toString());
        return (RegisterRefused) d.reply().message();
    }

    @Test
    void shouldRefuseWithOneLineAndNoEventWhenNoRunIsOnOrTheWorkerDoesNotFit() {
        Admission admission = admission(true);
        WorkerInfo w = fixture.worker("w", 100);
        Decision none = admission.register(new Idle("no run started"), register(w), NOW);
        assertEquals(RefusalReason.NO_RUN, refusal(none).reason());
        assertEquals(List.of(new Decision.Refused(RefusalReason.NO_RUN)), none.counts());
        Register otherBuild = new Register(BuildInfo.protocolVersion() + 1, "w", "h", "cpu", "udp://h:1",
                DeskFixture.DATASET, 100, w.ref());
        RegisterRefused version = refusal(admission.register(fixture.waiting(), otherBuild, NOW));
        assertEquals(RefusalReason.PROTOCOL_VERSION, version.reason());
        assertTrue(version.message().contains("same clmr build"), version.message());
        Register otherData = new Register(BuildInfo.protocolVersion(), "w", "h", "cpu", "udp://h:1", "e".repeat(64),
                100, w.ref());
        RegisterRefused dataset = refusal(admission.register(fixture.waiting(), otherData, NOW));
        assertEquals(RefusalReason.DATASET_MISMATCH, dataset.reason());
        // the worker hears that its own dataset differs, never the run's hash (issue #17: a refusal leaked it)
        assertTrue(dataset.message().contains("eeee") && dataset.message().contains("differs"), dataset.message());
        assertFalse(dataset.message().contains("dddd"), dataset.message());
        CoordinatorState over = then(fixture.waiting(), new RunCompleted(StopReason.STOPPED, NOW));
        assertEquals(RefusalReason.RUN_COMPLETED, refusal(admission.register(over, register(w), NOW)).reason());
    }

    @Test
    void shouldFormAFreshFirstGenerationAtTheFirstRegistrationWhenThereIsNoFormationDelay() {
        WorkerInfo a = fixture.worker("a", 100);
        Decision d = admission(true).register(fixture.waiting(), register(a), NOW);
        assertEquals(List.of(new WorkerJoined(a, NOW)), events(d, WorkerJoined.class));
        GenerationStarted g = events(d, GenerationStarted.class).get(0);
        assertEquals(1, g.generation());
        assertEquals(ResumePoint.fresh(), g.resume());
        assertEquals(List.of(8), g.members().stream().map(WorkerInfo::share).toList());
        assertEquals(new Registered("a", "run-1", fixture.spec, 1), d.reply().message());
        assertEquals(Classification.ACCEPTED, d.classification().orElseThrow());
    }

    @Test
    void shouldOnlyRecordAJoinerWhileTheFormationDelayRuns() {
        WorkerInfo a = fixture.worker("a", 100);
        Decision d = admission(false).register(fixture.waiting(), register(a), NOW);
        assertEquals(List.of(new WorkerJoined(a, NOW)), d.events());
        assertEquals(new Registered("a", "run-1", fixture.spec, 0), d.reply().message());
        CoordinatorState gathered = then(fixture.waiting(), d.events().toArray(new WorkerJoined[0]));
        GenerationStarted first = events(admission(false).formFirstGeneration(gathered, NOW), GenerationStarted.class)
                .get(0);
        assertEquals(List.of("a"), first.members().stream().map(WorkerInfo::workerId).toList());
    }

    @Test
    void shouldAnswerARepeatedRegistrationTheSameWithoutEvents() {
        WorkerInfo a = fixture.worker("a", 100);
        CoordinatorState running = fixture.running(a);
        Decision d = admission(true).register(running, register(a), NOW);
        assertTrue(d.events().isEmpty());
        assertEquals(Classification.DUPLICATE, d.classification().orElseThrow());
        assertEquals(1, ((Reconfigure) tells(d, Reconfigure.class).get(0).message()).generation());
        assertEquals(new Registered("a", "run-1", fixture.spec, 1), d.reply().message());
    }

    @Test
    void shouldHandEachGenerationOneFreshKeyAndTheSameOneWhenItIsSentAgain() {
        WorkerInfo a = fixture.worker("a", 100);
        WorkerInfo b = fixture.worker("b", 100);
        CoordinatorState running = fixture.running(a, b);
        Admission admission = admission(true);
        List<FrameKey> told = keys(admission.announce(run(running)));
        assertEquals(2, told.size());
        assertEquals(told.get(0), told.get(1), "every member of a generation gets the same key");
        FrameKey key = told.get(0);
        assertEquals(List.of(key), keys(admission.register(running, register(a), NOW)), "a member that asks again");

        Decision next = admission.nextGeneration(run(running), List.of("b"), List.of(), "b left", NOW);
        CoordinatorState after = then(running, next.events().toArray(new CoordinatorEvent[0]));
        FrameKey nextKey = keys(admission.announce(run(after))).get(0);
        assertNotEquals(key, nextKey, "a new generation, a new key");
        assertNotEquals(key, keys(admission(true).announce(run(running))).get(0),
                "a restarted coordinator draws its own");
    }

    private static List<FrameKey> keys(Decision d) {
        return tells(d, Reconfigure.class).stream().map(t -> ((Reconfigure) t.message()).frameKey()).toList();
    }

    @Test
    void shouldReplaceAMemberThatRegistersFromANewIncarnation() {
        WorkerInfo a = fixture.worker("a", 100);
        WorkerInfo b = fixture.worker("b", 100);
        WorkerInfo b2 = fixture.worker("b", 100);
        Decision d = admission(true).register(fixture.running(a, b), register(b2), NOW);
        assertEquals(List.of(new WorkerRemoved("b", FailureReason.RESTARTED, NOW)), events(d, WorkerRemoved.class));
        GenerationStarted g = events(d, GenerationStarted.class).get(0);
        assertEquals(2, g.generation());
        assertEquals(List.of(a.ref(), b2.ref()), g.members().stream().map(WorkerInfo::ref).toList());
        assertEquals(2, ((Registered) d.reply().message()).currentGeneration());
        Decision told = Admission.removed(run(fixture.running(a, b)), events(d, WorkerRemoved.class).get(0));
        assertEquals(b.ref(), told.tells().get(0).to());
        assertEquals(new Stop("run-1", StopReason.REMOVED), told.tells().get(0).message());
    }

    @Test
    void shouldRefuseAWorkerIdRegisteredFromAnotherNodeThatIsStillAMemberAndLeaveTheRegisteredWorkerAlone() {
        ActorTestKit otherNode = ActorTestKit.create("other-node");
        try {
            WorkerInfo a = fixture.worker("a", 100);
            WorkerInfo b = fixture.worker("b", 100);
            TestProbe<ToWorker> impostor = otherNode.createTestProbe("b");
            Register claim = new Register(BuildInfo.protocolVersion(), "b", "h", "cpu", "udp://h:1", DeskFixture.DATASET,
                    100, impostor.ref());
            CoordinatorState running = fixture.running(a, b);
            Decision d = new Admission(new RunPlanner(DeskFixture.PLAN_STEPS, 0.1, new ProgressTracker(0.2)), true,
                    ref -> ref.equals(b.ref())).register(running, claim, NOW);
            RegisterRefused refused = refusal(d);
            assertEquals(RefusalReason.WORKER_ID_TAKEN, refused.reason());
            assertEquals(impostor.ref(), d.reply().to(), "the refusal goes to the node that asked");
            assertTrue(d.tells().isEmpty(), "nothing is told to the registered worker: " + d.tells());
            assertFalse(refused.message().contains(DeskFixture.DATASET), refused.message());
            assertEquals(List.of(new Decision.Refused(RefusalReason.WORKER_ID_TAKEN)), d.counts());

            Decision gone = new Admission(new RunPlanner(DeskFixture.PLAN_STEPS, 0.1, new ProgressTracker(0.2)), true,
                    ref -> false).register(running, claim, NOW);
            assertEquals(List.of(new WorkerRemoved("b", FailureReason.RESTARTED, NOW)), events(gone, WorkerRemoved.class),
                    "once the old node has left, the id is free: the new registration replaces the old one");
        } finally {
            otherNode.shutdownTestKit();
        }
    }

    @Test
    void shouldStartTheNextGenerationWithTheSurvivorsAndWaitWhenNoneIsLeft() {
        WorkerInfo a = fixture.worker("a", 100);
        WorkerInfo b = fixture.worker("b", 100);
        Admission admission = admission(true);
        Decision left = admission.leave(fixture.running(a, b), new Leave("b", 1, "shutdown"), NOW);
        assertEquals(List.of(new WorkerRemoved("b", FailureReason.LEFT, NOW)), events(left, WorkerRemoved.class));
        assertEquals(List.of("a"), events(left, GenerationStarted.class).get(0).members().stream()
                .map(WorkerInfo::workerId).toList());
        Decision last = admission.leave(fixture.running(a), new Leave("a", 1, "shutdown"), NOW);
        assertEquals(List.of(new WorkerRemoved("a", FailureReason.LEFT, NOW)), last.events());
        Decision unknown = admission.leave(fixture.running(a), new Leave("x", 1, "shutdown"), NOW);
        assertTrue(unknown.events().isEmpty());
        assertEquals(Classification.UNKNOWN, unknown.classification().orElseThrow());
        assertTrue(Admission.removed(run(fixture.running(a)), (WorkerRemoved) last.events().get(0)).tells().isEmpty(),
                "a worker that left is not told to stop");
    }

    @Test
    void shouldCountTheTerminationOfAnEarlierIncarnationAsADuplicate() {
        WorkerInfo a = fixture.worker("a", 100);
        WorkerInfo earlier = fixture.worker("a", 100);
        Admission admission = admission(true);
        Decision stale = admission.terminated(fixture.running(a), "a", earlier.ref(), NOW);
        assertTrue(stale.events().isEmpty());
        assertEquals(Classification.DUPLICATE, stale.classification().orElseThrow());
        Decision current = admission.terminated(fixture.running(a), "a", a.ref(), NOW);
        assertEquals(List.of(new WorkerRemoved("a", FailureReason.TERMINATED, NOW)), current.events());
    }

    @Test
    void shouldHoldRegistrationsAfterRecoveryUntilTheRecordedWorkersAreChecked() {
        WorkerInfo a = fixture.worker("a", 100);
        WorkerInfo b = fixture.worker("b", 100);
        Admission admission = admission(true);
        CoordinatorState recovered = fixture.running(a, b);
        assertEquals(List.of("a", "b"), admission.recovered(recovered).stream().map(WorkerInfo::workerId).toList());
        assertFalse(admission.isOpen());
        Decision d = admission.checkMembers(recovered, w -> !w.workerId().equals("b"), NOW);
        assertTrue(admission.isOpen());
        assertEquals(List.of(new WorkerRemoved("b", FailureReason.LOST_WITH_COORDINATOR, NOW)),
                events(d, WorkerRemoved.class));
        assertEquals(2, d.generationAfter(1));
        assertTrue(admission.recovered(new Idle("no run started")).isEmpty());
        assertTrue(admission.isOpen(), "nothing to check without a run");
    }
}

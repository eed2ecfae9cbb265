package org.clmr.coordinator.membership;

import akka.actor.testkit.typed.javadsl.TestProbe;
import org.clmr.coordinator.desk.Classification;
import org.clmr.coordinator.desk.Decision;
import org.clmr.coordinator.desk.DeskFixture;
import org.clmr.coordinator.journal.CoordinatorEvent.CheckpointRecorded;
import org.clmr.coordinator.journal.CoordinatorEvent.GenerationStarted;
import org.clmr.coordinator.journal.CoordinatorEvent.RunPaused;
import org.clmr.coordinator.journal.CoordinatorEvent.WorkerJoined;
import org.clmr.coordinator.journal.CoordinatorEvent.WorkerRemoved;
import org.clmr.coordinator.journal.CoordinatorState;
import org.clmr.coordinator.journal.FailureReason;
import org.clmr.coordinator.journal.WorkerInfo;
import org.clmr.coordinator.plan.ProgressTracker;
import org.clmr.coordinator.plan.RunPlanner;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.cluster.CoordinatorProtocol.DrainWorker;
import org.clmr.protocol.cluster.CoordinatorProtocol.OperatorReply;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumePoint;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.clmr.coordinator.desk.DeskFixture.NOW;
import static org.clmr.coordinator.desk.DeskFixture.events;
import static org.clmr.coordinator.desk.DeskFixture.run;
import static org.clmr.coordinator.desk.DeskFixture.then;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DrainingTest {
    private static DeskFixture fixture;
    private static TestProbe<OperatorReply> operator;
    private Draining draining;

    @BeforeAll
    static void start() {
        fixture = new DeskFixture();
        operator = fixture.probe(OperatorReply.class);
    }

    @AfterAll
    static void stop() {
        fixture.close();
    }

    @BeforeEach
    void newDesk() {
        draining = new Draining(new RunPlanner(DeskFixture.PLAN_STEPS, 0.1, new ProgressTracker(0.2)));
    }

    private Decision drain(CoordinatorState state, String workerId) {
        return draining.request(state, new DrainWorker(workerId, operator.ref()), 5, NOW);
    }

    private static OperatorReply reply(Decision d) {
        return (OperatorReply) d.reply().message();
    }

    @Test
    void shouldRefuseAnUnknownWorkerAndARunThatIsNotOn() {
        WorkerInfo a = fixture.worker("a", 100);
        OperatorReply unknown = reply(drain(fixture.running(a), "nobody"));
        assertFalse(unknown.accepted());
        assertTrue(unknown.message().contains("[a]"), unknown.message());
        assertFalse(reply(drain(fixture.waiting(), "a")).accepted());
        assertFalse(draining.isDraining("a"));
    }

    @Test
    void shouldLetTheLastMemberLeaveOnlyAfterACheckpointOfTheStepItHolds() {
        List<Long> asked = new java.util.ArrayList<>();
        draining = new Draining(new RunPlanner(DeskFixture.PLAN_STEPS, 0.1, new ProgressTracker(0.2)),
                (run, step) -> {
                    asked.add(step);
                    return Decision.none();
                });
        WorkerInfo a = fixture.worker("a", 100);
        CoordinatorState running = fixture.running(a);
        Decision first = drain(running, "a");
        assertTrue(reply(first).accepted() && reply(first).message().contains("last member")
                && reply(first).message().contains("checkpoint"), reply(first).message());
        assertTrue(first.events().isEmpty() && asked.isEmpty(), "it trains on to the plan boundary");
        assertTrue(draining.nobodyStays(run(running)));
        draining.lastMemberAt(run(running), 5, Decision.none());
        assertTrue(drain(running, "a").events().isEmpty(), "no checkpoint of step 5 is committed yet");
        assertEquals(List.of(5L), asked, "a repeated request asks again for the checkpoint of the boundary's step");
        CoordinatorState saved = then(running, new CheckpointRecorded(1, new CheckpointRecord("run-1", 5, 1, 1, 10, "0".repeat(64), NOW,
                fixture.spec.hash(), "jdbc:clmr_checkpoint#run-1/5"), NOW));
        Decision leaves = drain(saved, "a");
        assertEquals(List.of(new WorkerRemoved("a", FailureReason.DRAINED, NOW)), leaves.events());
        assertTrue(reply(leaves).message().contains("step 5"), reply(leaves).message());
    }

    @Test
    void shouldDrainAJoinerOrAMemberOfAPausedRunAtOnce() {
        WorkerInfo a = fixture.worker("a", 100);
        WorkerInfo b = fixture.worker("b", 100);
        CoordinatorState withJoiner = then(fixture.running(a), new WorkerJoined(b, NOW));
        Decision joiner = drain(withJoiner, "b");
        assertEquals(List.of(new WorkerRemoved("b", FailureReason.DRAINED, NOW)), joiner.events());
        assertTrue(reply(joiner).message().contains("joining"), reply(joiner).message());
        Decision paused = drain(then(fixture.running(a), new RunPaused("operator", NOW)), "a");
        assertEquals(List.of(new WorkerRemoved("a", FailureReason.DRAINED, NOW)), paused.events());
        assertTrue(reply(paused).accepted());
    }

    @Test
    void shouldLetADrainedMemberLeaveAtTheBoundaryWhileTheOthersGoOnFromThatStep() {
        WorkerInfo a = fixture.worker("a", 100);
        WorkerInfo b = fixture.worker("b", 100);
        CoordinatorState running = fixture.running(a, b);
        Decision first = drain(running, "a");
        assertTrue(first.events().isEmpty(), "a member leaves at the boundary, not now");
        assertTrue(reply(first).message().contains("step 5"), reply(first).message());
        assertEquals(Classification.DUPLICATE, drain(running, "a").classification().orElseThrow());
        assertTrue(draining.anyIn(run(running)) && draining.isDraining("a") && !draining.isDraining("b"));
        Decision boundary = draining.atBoundary(run(running), 5, "b", NOW);
        assertEquals(List.of(new WorkerRemoved("a", FailureReason.DRAINED, NOW)), events(boundary, WorkerRemoved.class));
        GenerationStarted g = events(boundary, GenerationStarted.class).get(0);
        assertEquals(2, g.generation());
        assertEquals(List.of("b"), g.members().stream().map(WorkerInfo::workerId).toList());
        assertEquals(List.of(8), g.members().stream().map(WorkerInfo::share).toList());
        assertEquals(ResumePoint.fromRank(5, 1, 0), g.resume());
        draining.forget("a");
        assertFalse(draining.anyIn(run(running)));
    }
}

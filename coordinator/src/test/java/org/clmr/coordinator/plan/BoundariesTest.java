package org.clmr.coordinator.plan;

import org.clmr.coordinator.desk.Classification;
import org.clmr.coordinator.desk.Decision;
import org.clmr.coordinator.desk.DeskFixture;
import org.clmr.coordinator.journal.CoordinatorEvent.EpochCompleted;
import org.clmr.coordinator.journal.CoordinatorEvent.GenerationStarted;
import org.clmr.coordinator.journal.CoordinatorEvent.RunCompleted;
import org.clmr.coordinator.journal.CoordinatorEvent.RunPaused;
import org.clmr.coordinator.journal.CoordinatorEvent.WorkerJoined;
import org.clmr.coordinator.journal.CoordinatorState;
import org.clmr.coordinator.journal.RunData;
import org.clmr.coordinator.journal.WorkerInfo;
import org.clmr.protocol.cluster.CoordinatorProtocol.Plan;
import org.clmr.protocol.cluster.CoordinatorProtocol.Progress;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumePoint;
import org.clmr.protocol.cluster.CoordinatorProtocol.Stop;
import org.clmr.protocol.cluster.CoordinatorProtocol.StopReason;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.clmr.coordinator.desk.DeskFixture.NOW;
import static org.clmr.coordinator.desk.DeskFixture.events;
import static org.clmr.coordinator.desk.DeskFixture.progress;
import static org.clmr.coordinator.desk.DeskFixture.run;
import static org.clmr.coordinator.desk.DeskFixture.tells;
import static org.clmr.coordinator.desk.DeskFixture.then;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BoundariesTest {
    private static DeskFixture fixture;
    private Boundaries boundaries;
    private WorkerInfo a;
    private WorkerInfo b;

    @BeforeAll
    static void start() {
        fixture = new DeskFixture();
    }

    @AfterAll
    static void stop() {
        fixture.close();
    }

    @BeforeEach
    void newDesk() {
        ProgressTracker progress = new ProgressTracker(0.2);
        boundaries = new Boundaries(new RunPlanner(DeskFixture.PLAN_STEPS, 0.1, progress), progress);
        a = fixture.worker("a", 100);
        b = fixture.worker("b", 100);
    }

    private static Classification classified(Boundaries.Heard heard) {
        return heard.decision().classification().orElseThrow();
    }

    @Test
    void shouldClassifyReportsAndTellAMemberOfACompletedRunToStop() {
        CoordinatorState running = fixture.running(a, b);
        assertEquals(Classification.ACCEPTED, classified(boundaries.hear(running, progress(a, 1, 1))));
        assertEquals(Classification.DUPLICATE, classified(boundaries.hear(running, progress(a, 1, 1))));
        assertEquals(Classification.STALE, classified(boundaries.hear(running, progress(a, 0, 2))));
        assertEquals(Classification.UNKNOWN, classified(boundaries.hear(running, progress(a, 2, 2))));
        assertEquals(Classification.UNKNOWN, classified(boundaries.hear(fixture.waiting(), progress(a, 1, 2))));
        Decision over = boundaries.hear(then(running, new RunCompleted(StopReason.STOPPED, NOW)), progress(b, 1, 2))
                .decision();
        assertEquals(Classification.UNKNOWN, over.classification().orElseThrow());
        assertEquals(b.ref(), over.tells().get(0).to());
        assertEquals(new Stop("run-1", StopReason.STOPPED), over.tells().get(0).message());
    }

    @Test
    void shouldCountMembersWhoseWeightsDifferAtTheSameStep() {
        CoordinatorState running = fixture.running(a, b);
        boundaries.hear(running, progress(a, 1, 3));
        Decision other = boundaries.hear(running, new Progress("b", 1, 3, 0, 0.2, 100, "other")).decision();
        assertTrue(other.counts().contains(Decision.Incident.WEIGHTS_DIVERGED), other.counts().toString());
        assertTrue(other.notes().get(0).text().contains("b has other, a has fp3"), other.notes().toString());
    }

    @Test
    void shouldOpenABoundaryOnceAndSendItsPlanAgainWhenTheReportIsRepeated() {
        CoordinatorState running = fixture.running(a, b);
        assertFalse(boundaries.hear(running, progress(a, 1, 3)).newBoundary(), "3 is inside the plan");
        assertTrue(boundaries.hear(running, progress(a, 1, 4)).newBoundary(), "4 is a checkpoint step");
        Decision plan = boundaries.planFrom(run(running), 4);
        assertEquals(List.of(a.ref(), b.ref()), plan.tells().stream().map(Decision.Tell::to).toList());
        assertEquals(new Plan(1, 4, 5), plan.tells().get(0).message());
        assertEquals(5, boundaries.nextBoundary(run(running)), "the epoch ends at 5");
        Boundaries.Heard again = boundaries.hear(running, progress(b, 1, 4));
        assertFalse(again.newBoundary(), "already planned from 4");
        assertEquals(List.of(new Plan(1, 4, 5)), tells(again.decision(), Plan.class).stream()
                .map(Decision.Tell::message).toList());
        assertFalse(boundaries.hear(then(running, new RunPaused("operator", NOW)), progress(a, 1, 5)).newBoundary(),
                "a paused run plans nothing");
    }

    @Test
    void shouldRecordAnEpochEndOnce() {
        RunData run = run(fixture.running(a));
        assertEquals(List.of(new EpochCompleted(0, 5, NOW)), boundaries.epochEnd(run, 5, NOW).events());
        assertTrue(boundaries.epochEnd(run, 4, NOW).events().isEmpty());
        RunData recorded = run(then(fixture.running(a), new EpochCompleted(0, 5, NOW)));
        assertTrue(boundaries.epochEnd(recorded, 5, NOW).events().isEmpty());
    }

    @Test
    void shouldRegroupForJoinersOrSkewedThroughputsAndOtherwiseLetTheMembersPlanOn() {
        CoordinatorState running = fixture.running(a, b);
        assertTrue(boundaries.regroup(run(running), 4, "a", NOW).isEmpty());
        WorkerInfo c = fixture.worker("c", 100);
        GenerationStarted joined = events(boundaries.regroup(run(then(running, new WorkerJoined(c, NOW))), 4, "b", NOW)
                .orElseThrow(), GenerationStarted.class).get(0);
        assertEquals(List.of("a", "b", "c"), joined.members().stream().map(WorkerInfo::workerId).toList());
        assertEquals(ResumePoint.fromRank(4, 0, 1), joined.resume());
        boundaries.hear(running, new Progress("a", 1, 1, 0, 1.0, 900, "f1"));
        boundaries.hear(running, new Progress("b", 1, 1, 0, 1.0, 100, "f1"));
        GenerationStarted skewed = events(boundaries.regroup(run(running), 4, "a", NOW).orElseThrow(),
                GenerationStarted.class).get(0);
        assertTrue(skewed.reason().contains("re-balanced"), skewed.reason());
        assertTrue(skewed.members().get(0).share() > skewed.members().get(1).share(), skewed.members().toString());
    }
}

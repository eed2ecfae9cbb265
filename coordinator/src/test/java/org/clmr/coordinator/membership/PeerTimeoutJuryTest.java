package org.clmr.coordinator.membership;

import org.clmr.coordinator.desk.Classification;
import org.clmr.coordinator.desk.Decision;
import org.clmr.coordinator.desk.DeskFixture;
import org.clmr.coordinator.desk.TolerancePolicy;
import org.clmr.coordinator.journal.CoordinatorEvent;
import org.clmr.coordinator.journal.CoordinatorEvent.GenerationStarted;
import org.clmr.coordinator.journal.CoordinatorEvent.WorkerRemoved;
import org.clmr.coordinator.journal.CoordinatorState;
import org.clmr.coordinator.journal.FailureReason;
import org.clmr.coordinator.journal.WorkerInfo;
import org.clmr.coordinator.plan.ProgressTracker;
import org.clmr.coordinator.plan.RunPlanner;
import org.clmr.protocol.cluster.CoordinatorProtocol.PeerTimeout;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.clmr.coordinator.desk.DeskFixture.NOW;
import static org.clmr.coordinator.desk.DeskFixture.events;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PeerTimeoutJuryTest {
    private static DeskFixture fixture;
    private Admission admission;
    private PeerTimeoutJury jury;
    private WorkerInfo a;
    private WorkerInfo b;
    private WorkerInfo c;

    @BeforeAll
    static void start() {
        fixture = new DeskFixture();
    }

    @AfterAll
    static void stop() {
        fixture.close();
    }

    @BeforeEach
    void newJury() {
        RunPlanner planner = new RunPlanner(DeskFixture.PLAN_STEPS, 0.1, new ProgressTracker(0.2));
        admission = new Admission(planner, true, ref -> true);
        jury = new PeerTimeoutJury(admission, new TolerancePolicy(3));
        a = fixture.worker("a", 100);
        b = fixture.worker("b", 100);
        c = fixture.worker("c", 100);
    }

    private static List<String> removed(Decision d) {
        return events(d, WorkerRemoved.class).stream().map(WorkerRemoved::workerId).toList();
    }

    @Test
    void shouldIgnoreReportsOfAnotherGenerationOrPhaseAndReportsThatNameNobodyElse() {
        CoordinatorState running = fixture.running(a, b, c);
        assertEquals(Classification.STALE, jury.hear(fixture.waiting(), new PeerTimeout("a", 1, 3, List.of(1)))
                .classification().orElseThrow());
        assertEquals(Classification.STALE, jury.hear(running, new PeerTimeout("a", 0, 3, List.of(1)))
                .classification().orElseThrow());
        assertEquals(Classification.UNKNOWN, jury.hear(running, new PeerTimeout("a", 2, 3, List.of(1)))
                .classification().orElseThrow());
        assertEquals(Classification.UNKNOWN, jury.hear(running, new PeerTimeout("x", 1, 3, List.of(1)))
                .classification().orElseThrow());
        Decision self = jury.hear(running, new PeerTimeout("a", 1, 3, List.of(0, 7)));
        assertEquals(Classification.UNKNOWN, self.classification().orElseThrow());
        assertTrue(self.events().isEmpty());
        assertTrue(jury.close(running, 1, NOW).events().isEmpty(), "nothing was gathered");
    }

    /** c dies mid-step; a finds c silent and abandons the step, so b finds a silent too: only c goes. */
    @Test
    void shouldEvictOnlyTheSilentRankThatDidNotReportItself() {
        CoordinatorState running = fixture.running(a, b, c);
        assertTrue(jury.hear(running, new PeerTimeout("b", 1, 5, List.of(0))).accepted());
        assertTrue(jury.hear(running, new PeerTimeout("a", 1, 5, List.of(2))).accepted());
        Decision verdict = jury.close(running, 1, NOW);
        assertEquals(List.of(new WorkerRemoved("c", FailureReason.PEER_TIMEOUT, NOW)),
                events(verdict, WorkerRemoved.class));
        GenerationStarted next = events(verdict, GenerationStarted.class).get(0);
        assertEquals(List.of("a", "b"), next.members().stream().map(WorkerInfo::workerId).toList());
        assertTrue(next.reason().contains("[b, a] timed out on [c]"), next.reason());
    }

    @Test
    void shouldEvictTheReporterThatFindsMostOfALargerGenerationSilent() {
        CoordinatorState running = fixture.running(a, b, c);
        jury.hear(running, new PeerTimeout("a", 1, 5, List.of(1, 2)));
        Decision verdict = jury.decide(running, 5, NOW);
        assertEquals(List.of("a"), removed(verdict));
        assertTrue(events(verdict, GenerationStarted.class).get(0).reason().contains("the reporter is the one cut off"));
        jury.hear(fixture.running(a, b), new PeerTimeout("a", 1, 5, List.of(1)));
        assertEquals(List.of("b"), removed(jury.decide(fixture.running(a, b), 5, NOW)), "two members: the silent goes");
    }

    @Test
    void shouldLetTheReportsOfAWindowGoWhenTheGenerationMovedOnMeanwhile() {
        CoordinatorState first = fixture.running(a, b, c);
        assertTrue(jury.hear(first, new PeerTimeout("a", 1, 5, List.of(2))).accepted());
        Decision lost = admission.terminated(first, "c", c.ref(), NOW);
        CoordinatorState second = DeskFixture.then(first, lost.events().toArray(new CoordinatorEvent[0]));
        assertEquals(2, second.generation());
        assertTrue(jury.close(second, 1, NOW).events().isEmpty(), "generation 1's window closes in generation 2");
        assertTrue(jury.hear(second, new PeerTimeout("a", 2, 6, List.of(1))).accepted());
        assertEquals(List.of("b"), removed(jury.close(second, 2, NOW)));
    }
}

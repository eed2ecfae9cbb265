package org.clmr.coordinator.desk;

import org.clmr.coordinator.journal.CoordinatorEvent.EpochCompleted;
import org.clmr.coordinator.journal.CoordinatorEvent.GenerationStarted;
import org.clmr.coordinator.journal.CoordinatorEvent.RunPaused;
import org.clmr.coordinator.journal.WorkerInfo;
import org.clmr.protocol.cluster.CoordinatorProtocol.OperatorReply;
import org.clmr.protocol.cluster.CoordinatorProtocol.Plan;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumePoint;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToWorker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

import java.util.List;

import static org.clmr.coordinator.desk.DeskFixture.NOW;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DecisionTest {
    private static DeskFixture fixture;

    @BeforeAll
    static void start() {
        fixture = new DeskFixture();
    }

    @AfterAll
    static void stop() {
        fixture.close();
    }

    @Test
    void shouldKeepEventsMessagesCountsAndNotesInTheOrderTheyWereDecided() {
        WorkerInfo a = fixture.worker("a", 100);
        Decision d = Decision.persist(new EpochCompleted(0, 5, NOW)).tell(a.ref(), (ToWorker) new Plan(1, 5, 8))
                .classified("progress", Classification.ACCEPTED).info("first")
                .and(Decision.persist(new RunPaused("why", NOW)).tell(a.ref(), new Plan(1, 8, 10)).warn("second"));
        assertEquals(List.of(new EpochCompleted(0, 5, NOW), new RunPaused("why", NOW)), d.events());
        assertEquals(List.of(new Plan(1, 5, 8), new Plan(1, 8, 10)), d.tells().stream().map(Decision.Tell::message)
                .toList());
        assertEquals(List.of(new Decision.Note(Level.INFO, "first"), new Decision.Note(Level.WARN, "second")),
                d.notes());
        assertTrue(d.accepted());
        assertNull(d.reply());
    }

    @Test
    void shouldCarryOneReplyAndRefuseASecond() {
        WorkerInfo a = fixture.worker("a", 100);
        var probe = fixture.probe(OperatorReply.class);
        Decision replied = Decision.none().reply(probe.ref(), new OperatorReply(true, "done"));
        Decision both = replied.and(Decision.none().tell(a.ref(), (ToWorker) new Plan(1, 0, 4)));
        assertEquals(new OperatorReply(true, "done"), both.reply().message());
        assertThrows(IllegalStateException.class, () -> both.reply(probe.ref(), new OperatorReply(false, "again")));
        assertFalse(Decision.none().classified("progress", Classification.DUPLICATE).accepted());
    }

    @Test
    void shouldNameTheGenerationItsEventsStart() {
        assertEquals(3, Decision.none().generationAfter(3));
        Decision d = Decision.persist(new GenerationStarted(4, List.of(), ResumePoint.fresh(), "why", NOW),
                new EpochCompleted(0, 5, NOW));
        assertEquals(4, d.generationAfter(3));
    }
}

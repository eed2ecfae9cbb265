package org.clmr.coordinator;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.ActorRef;
import org.clmr.coordinator.CoordinatorMessages.RetryJournal;
import org.clmr.coordinator.desk.Decision;
import org.clmr.coordinator.journal.CoordinatorState.Idle;
import org.clmr.coordinator.plan.ProgressTracker;
import org.clmr.protocol.cluster.CoordinatorProtocol.GetStatus;
import org.clmr.protocol.cluster.CoordinatorProtocol.Leave;
import org.clmr.protocol.cluster.CoordinatorProtocol.OperatorReply;
import org.clmr.protocol.cluster.CoordinatorProtocol.PauseRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumeRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.Status;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToCoordinator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The desk for a journal that cannot be written: what each command gets while the run is paused for it. */
class JournalPauseTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-03-01T12:00:00Z"), ZoneOffset.UTC);
    private static final ActorTestKit KIT = ActorTestKit.create();
    private final JournalHealth.Failure failure = failure();
    private final ActorRef<OperatorReply> operator = KIT.<OperatorReply>createTestProbe().ref();

    @AfterAll
    static void stop() {
        KIT.shutdownTestKit();
    }

    private static JournalHealth.Failure failure() {
        JournalHealth health = new JournalHealth();
        health.failed("persisting [RunPaused] failed", CLOCK.instant());
        return health.pausing().orElseThrow();
    }

    private JournalPause.Heard hear(Object c) {
        return JournalPause.hear(failure, (ToCoordinator) c,
                () -> StatusView.of(new Idle("no run started"), new ProgressTracker(0.3), CLOCK));
    }

    @Test
    void shouldShowTheStatusPausedWithWhy() {
        ActorRef<Status> asker = KIT.<Status>createTestProbe().ref();
        JournalPause.Heard heard = hear(new GetStatus(asker));
        assertFalse(heard.retry());
        Status status = (Status) heard.decision().reply().message();
        assertEquals("PAUSED", status.phase());
        assertEquals(failure.why(), status.phaseReason());
    }

    @Test
    void shouldRetryOnResumeAndAnswerTheOperator() {
        JournalPause.Heard heard = hear(new ResumeRun(operator));
        assertTrue(heard.retry());
        assertTrue(((OperatorReply) heard.decision().reply().message()).accepted());
        assertTrue(heard.decision().events().isEmpty());
    }

    @Test
    void shouldRetryWhenTheBackOffEndsWithoutAnyReply() {
        JournalPause.Heard heard = hear(RetryJournal.INSTANCE);
        assertTrue(heard.retry());
        assertNull(heard.decision().reply());
    }

    @Test
    void shouldRefuseOtherOperatorsWithWhy() {
        JournalPause.Heard heard = hear(new PauseRun(operator));
        assertFalse(heard.retry());
        assertEquals(new OperatorReply(false, failure.why()), heard.decision().reply().message());
    }

    @Test
    void shouldDropWorkersCommandsThatAreRepeated() {
        JournalPause.Heard heard = hear(new Leave("w1", 1, "shutdown"));
        assertFalse(heard.retry());
        assertEquals(Decision.none(), heard.decision());
    }
}

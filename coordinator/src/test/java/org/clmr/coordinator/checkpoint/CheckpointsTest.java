package org.clmr.coordinator.checkpoint;

import org.clmr.coordinator.checkpoint.CheckpointRound.Stage;
import org.clmr.coordinator.desk.Classification;
import org.clmr.coordinator.desk.Decision;
import org.clmr.coordinator.desk.DeskFixture;
import org.clmr.coordinator.desk.TolerancePolicy;
import org.clmr.coordinator.journal.CoordinatorEvent.CheckpointRecorded;
import org.clmr.coordinator.journal.CoordinatorEvent.RunCompleted;
import org.clmr.coordinator.journal.CoordinatorEvent.RunPaused;
import org.clmr.coordinator.journal.CoordinatorState;
import org.clmr.coordinator.journal.RunData;
import org.clmr.coordinator.journal.WorkerInfo;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointCommitted;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointFailed;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointRequest;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointWritten;
import org.clmr.protocol.cluster.CoordinatorProtocol.StopReason;
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
import static org.junit.jupiter.api.Assertions.assertTrue;

class CheckpointsTest {
    private static DeskFixture fixture;
    private Checkpoints checkpoints;
    private WorkerInfo a;
    private WorkerInfo b;
    private CoordinatorState running;

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
        checkpoints = new Checkpoints(new TolerancePolicy(2));
        a = fixture.worker("a", 100);
        b = fixture.worker("b", 100);
        running = fixture.running(a, b);
    }

    private CheckpointRecord record(long step) {
        return new CheckpointRecord("run-1", step, (int) (step / 5), 1, 10, "0".repeat(64), NOW, fixture.spec.hash(),
                "jdbc:clmr_checkpoint#run-1/" + step);
    }

    private static CheckpointRequest request(Decision d) {
        return (CheckpointRequest) d.tells().get(0).message();
    }

    @Test
    void shouldAskRankZeroOnceAtACheckpointStep() {
        RunData run = run(running);
        assertTrue(checkpoints.dueAt(run, 3).tells().isEmpty(), "3 is not a checkpoint step");
        Decision asked = checkpoints.dueAt(run, 4);
        assertEquals(a.ref(), asked.tells().get(0).to());
        assertEquals(new CheckpointRequest(1, 1, 4), request(asked));
        assertTrue(checkpoints.dueAt(run, 4).tells().isEmpty(), "asked already");
        assertEquals(new CheckpointRequest(1, 2, 8), request(checkpoints.dueAt(run, 8)));
    }

    @Test
    void shouldCommitAWrittenCheckpointOnlyOnceItIsVerifiedAndThenTellTheMembers() {
        CheckpointRequest asked = request(checkpoints.dueAt(run(running), 4));
        Decision written = checkpoints.written(running, new CheckpointWritten("a", 1, asked.checkpointId(), record(4)));
        assertTrue(written.accepted() && written.events().isEmpty(), "read back before anything is committed");
        assertEquals(Stage.WRITTEN, checkpoints.round().orElseThrow().stage());
        Decision verified = checkpoints.verified(running, asked.checkpointId(), record(4), null, NOW);
        CheckpointRecorded recorded = new CheckpointRecorded(asked.checkpointId(), record(4), NOW);
        assertEquals(List.of(recorded), verified.events());
        CoordinatorState after = then(running, recorded);
        Decision told = checkpoints.recorded(run(after), recorded);
        assertEquals(List.of(a.ref(), b.ref()), told.tells().stream().map(Decision.Tell::to).toList());
        assertEquals(new CheckpointCommitted(1, asked.checkpointId(), record(4)), told.tells().get(0).message());
        assertTrue(checkpoints.round().isEmpty());
        Decision again = checkpoints.written(after, new CheckpointWritten("a", 1, asked.checkpointId(), record(4)));
        assertEquals(Classification.DUPLICATE, again.classification().orElseThrow());
    }

    @Test
    void shouldIgnoreWritesOfRoundsItDidNotAskForOrOfEarlierGenerations() {
        request(checkpoints.dueAt(run(running), 4));
        assertEquals(Classification.UNKNOWN, checkpoints.written(running, new CheckpointWritten("a", 1, 9, record(4)))
                .classification().orElseThrow());
        assertEquals(Classification.STALE, checkpoints.written(running, new CheckpointWritten("a", 0, 9, record(4)))
                .classification().orElseThrow());
        assertEquals(Classification.UNKNOWN, checkpoints.failed(running, new CheckpointFailed("a", 1, 9, 4, "disk"),
                NOW).classification().orElseThrow());
        assertTrue(checkpoints.verified(running, 9, record(4), null, NOW).events().isEmpty());
    }

    @Test
    void shouldPauseTheRunAfterTooManyFailuresInARowAndCountEach() {
        CheckpointRequest first = request(checkpoints.dueAt(run(running), 4));
        Decision once = checkpoints.failed(running, new CheckpointFailed("a", 1, first.checkpointId(), 4, "disk full"),
                NOW);
        assertTrue(once.events().isEmpty(), "one failure is retried at the next checkpoint step");
        assertTrue(once.counts().contains(Decision.Incident.CHECKPOINT_FAILED));
        CheckpointRequest second = request(checkpoints.dueAt(run(running), 8));
        checkpoints.written(running, new CheckpointWritten("a", 1, second.checkpointId(), record(8)));
        Decision twice = checkpoints.verified(running, second.checkpointId(), record(8), "sha256 differs", NOW);
        RunPaused paused = events(twice, RunPaused.class).get(0);
        assertTrue(paused.reason().startsWith("2 checkpoints failed in a row (last: checkpoint 2 of step 8 failed"
                + " verification: sha256 differs)"), paused.reason());
        checkpoints.resumed();
        CheckpointRequest third = request(checkpoints.dueAt(run(running), 12));
        assertTrue(checkpoints.failed(running, new CheckpointFailed("a", 1, third.checkpointId(), 12, "disk"), NOW)
                .events().isEmpty(), "a resume starts the count again");
    }

    @Test
    void shouldCompleteTheRunWhenItsLastStepIsSavedOrCannotBe() {
        RunData run = run(running);
        CheckpointRequest last = request(checkpoints.atRunEnd(run, 20, NOW));
        assertEquals(20, last.step());
        assertTrue(checkpoints.atRunEnd(run, 20, NOW).tells().isEmpty(), "asked once");
        checkpoints.written(running, new CheckpointWritten("a", 1, last.checkpointId(), record(20)));
        Decision saved = checkpoints.verified(running, last.checkpointId(), record(20), null, NOW);
        assertEquals(new RunCompleted(StopReason.FINISHED, NOW), events(saved, RunCompleted.class).get(0));

        Checkpoints failing = new Checkpoints(new TolerancePolicy(2));
        CheckpointRequest unwritten = request(failing.atRunEnd(run, 20, NOW));
        Decision failed = failing.failed(running, new CheckpointFailed("a", 1, unwritten.checkpointId(), 20, "disk"),
                NOW);
        assertEquals(List.of(new RunCompleted(StopReason.FINISHED, NOW)), failed.events());
        assertEquals(List.of(new RunCompleted(StopReason.FINISHED, NOW)), failing.atRunEnd(run, 20, NOW).events(),
                "a repeated report at the end completes it too");
    }

    @Test
    void shouldNumberRoundsOnAfterTheNewestCommittedCheckpointOfARecoveredRun() {
        CoordinatorState recovered = then(running, new CheckpointRecorded(6, record(4), NOW));
        checkpoints.recovered(run(recovered));
        assertEquals(7, request(checkpoints.dueAt(run(recovered), 8)).checkpointId());
    }
}

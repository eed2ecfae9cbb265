package org.clmr.coordinator.steplog;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.clmr.coordinator.desk.DeskFixture;
import org.clmr.coordinator.journal.CoordinatorEvent.GenerationStarted;
import org.clmr.coordinator.journal.CoordinatorEvent.RunCompleted;
import org.clmr.coordinator.journal.CoordinatorEvent.WorkerRemoved;
import org.clmr.coordinator.journal.CoordinatorState;
import org.clmr.coordinator.journal.FailureReason;
import org.clmr.coordinator.journal.WorkerInfo;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.cluster.CoordinatorProtocol.Progress;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumePoint;
import org.clmr.protocol.cluster.CoordinatorProtocol.StepTimes;
import org.clmr.protocol.cluster.CoordinatorProtocol.StopReason;
import org.clmr.protocol.steplog.StepLog;
import org.clmr.protocol.steplog.StepRow;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.LongStream;

import static org.clmr.coordinator.desk.DeskFixture.NOW;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProgressLogTest {
    private static DeskFixture fx;
    private static WorkerInfo a;
    private static WorkerInfo b;

    @TempDir
    Path runDir;

    @BeforeAll
    static void setUp() {
        fx = new DeskFixture();
        a = fx.worker("a", 100);
        b = fx.worker("b", 100);
    }

    @AfterAll
    static void tearDown() {
        fx.close();
    }

    /** A report of a computed step: a's steps take 40 ms, b's 50 ms, 10 ms of it waiting for data. */
    private static Progress computed(WorkerInfo w, long generation, long step, double loss) {
        long wall = w == a ? 40_000_000 : 50_000_000;
        return new Progress(w.workerId(), generation, step, (int) (step / 5), loss, 4 / (wall / 1e9), "fp" + step,
                new StepTimes(10_000_000, 5_000_000, 1_000_000, 4_000_000, 15_000_000, 1_000_000, wall));
    }

    private Path file() {
        return StepLog.fileFor(runDir, "run-1");
    }

    private List<Long> steps() {
        return StepLog.read(file()).stream().map(StepRow::step).toList();
    }

    @Test
    void shouldWriteAStepOnceEveryMemberReportedItWithTheirTimesAveragedAndThroughputsListed() {
        CoordinatorState s = fx.running(a, b);
        try (ProgressLog log = ProgressLog.in(runDir, new PrometheusRegistry())) {
            log.hear(s, computed(a, 1, 1, 2.5), NOW);
            assertFalse(Files.exists(file()) && !steps().isEmpty(), "half a step is not a row");
            log.hear(s, computed(b, 1, 1, 2.5), NOW);
            log.hear(s, computed(b, 1, 1, 2.5), NOW);  // b repeats its newest report at a plan boundary
            log.hear(s, DeskFixture.progress(a, 1, 1), NOW);  // a report without times: not a computed step
        }
        List<StepRow> rows = StepLog.read(file());
        assertEquals(1, rows.size());
        StepRow r = rows.get(0);
        assertEquals(1, r.step());
        assertEquals(2.5, r.loss());
        assertEquals(1, r.generation());
        assertEquals(2, r.members());
        assertEquals(45.0, r.phases().stepMs(), 1e-9, "the members' mean");
        assertEquals(10.0, r.phases().dataMs(), 1e-9);
        assertEquals(8 / 0.050, r.samplesPerSecond(), 1e-6, "the global batch of 8 over the slowest member's step");
        assertEquals(List.of("a", "b"), List.copyOf(r.workers().keySet()));
        assertEquals(100.0, r.workers().get("a"), 1e-9);
        assertEquals(80.0, r.workers().get("b"), 1e-9);
        assertEquals(NOW, r.time());
    }

    @Test
    void shouldReplaceTheStepsANewGenerationComputesAgainAndKeepEachStepOnce() {
        CoordinatorState one = fx.running(a, b);
        try (ProgressLog log = ProgressLog.in(runDir, new PrometheusRegistry())) {
            for (long step = 1; step <= 6; step++) {
                log.hear(one, computed(a, 1, step, 1.0), NOW);
                log.hear(one, computed(b, 1, step, 1.0), NOW);
            }
            // step 7: a reported it, b died before its report arrived; the survivor resumes from the checkpoint of step 4
            log.hear(one, computed(a, 1, 7, 1.0), NOW);
            CheckpointRecord ck = new CheckpointRecord("run-1", 4, 0, 1, 10, "0".repeat(64), NOW, fx.spec.hash(), "x");
            CoordinatorState two = DeskFixture.then(one, new WorkerRemoved(b.workerId(), FailureReason.PEER_TIMEOUT, NOW),
                    new GenerationStarted(2, List.of(a.withShare(8, 100)), ResumePoint.fromCheckpoint(ck), "b lost", NOW));
            log.hear(two, computed(b, 1, 7, 1.0), NOW);  // stale: b is gone and generation 1 is over
            log.hear(two, DeskFixture.progress(a, 2, 4), NOW);  // a adopted the checkpoint: no row
            for (long step = 5; step <= 9; step++) {
                log.hear(two, computed(a, 2, step, 2.0), NOW);
            }
        }
        List<StepRow> rows = StepLog.read(file());
        assertEquals(LongStream.rangeClosed(1, 9).boxed().toList(), rows.stream().map(StepRow::step).toList());
        assertEquals(List.of(1L, 1L, 1L, 1L, 2L, 2L, 2L, 2L, 2L), rows.stream().map(StepRow::generation).toList());
        assertEquals(2.0, rows.get(4).loss(), "step 5 was computed again by generation 2");
        assertEquals(1, rows.get(8).members());
    }

    @Test
    void shouldGoOnWhereTheFileEndsAfterTheCoordinatorMovedOrRestarted() {
        CoordinatorState s = fx.running(a, b);
        try (ProgressLog log = ProgressLog.in(runDir, new PrometheusRegistry())) {
            for (long step = 1; step <= 3; step++) {
                log.hear(s, computed(a, 1, step, 1.0), NOW);
                log.hear(s, computed(b, 1, step, 1.0), NOW);
            }
        }
        try (ProgressLog next = ProgressLog.in(runDir, new PrometheusRegistry())) {
            next.hear(s, computed(a, 1, 3, 1.0), NOW);  // members repeat their newest report to the new incarnation
            next.hear(s, computed(b, 1, 3, 1.0), NOW);
            next.hear(s, computed(a, 1, 4, 1.0), NOW);
            next.hear(s, computed(b, 1, 4, 1.0), NOW);
            assertEquals(0, next.failures());
        }
        assertEquals(List.of(1L, 2L, 3L, 4L), steps());
    }

    @Test
    void shouldHearTheLastStepsLateReportsOfACompletedRun() {
        CoordinatorState s = fx.running(a, b);
        try (ProgressLog log = ProgressLog.in(runDir, new PrometheusRegistry())) {
            for (long step = 1; step <= 19; step++) {
                log.hear(s, computed(a, 1, step, 1.0), NOW);
                log.hear(s, computed(b, 1, step, 1.0), NOW);
            }
            log.hear(s, computed(a, 1, 20, 1.0), NOW);  // a's report of the last step completes the run
            log.hear(DeskFixture.then(s, new RunCompleted(StopReason.FINISHED, NOW)), computed(b, 1, 20, 1.0), NOW);
            List<StepRow> rows = StepLog.read(file());
            assertEquals(LongStream.rangeClosed(1, 20).boxed().toList(), rows.stream().map(StepRow::step).toList());
            assertEquals(List.of("a", "b"), List.copyOf(rows.get(19).workers().keySet()));
        }
    }

    @Test
    void shouldWriteAStepSomeMembersReportedWhenTheNodeStops() {
        CoordinatorState s = fx.running(a, b);
        try (ProgressLog log = ProgressLog.in(runDir, new PrometheusRegistry())) {
            for (long step = 1; step <= 3; step++) {
                log.hear(s, computed(a, 1, step, 1.0), NOW);
                log.hear(s, computed(b, 1, step, 1.0), NOW);
            }
            log.hear(s, computed(a, 1, 4, 1.0), NOW);  // b died before its report of step 4
            assertEquals(3, StepLog.read(file()).size());
        }
        List<StepRow> rows = StepLog.read(file());
        assertEquals(List.of(1L, 2L, 3L, 4L), rows.stream().map(StepRow::step).toList());
        assertEquals(List.of("a"), List.copyOf(rows.get(3).workers().keySet()), "step 4 as a computed it");
    }

    @Test
    void shouldCountARowItCannotWriteAndGoOn() throws Exception {
        Files.createDirectories(file());  // a directory where the file should be
        PrometheusRegistry registry = new PrometheusRegistry();
        CoordinatorState s = fx.running(a);
        try (ProgressLog log = ProgressLog.in(runDir, registry)) {
            log.hear(s, computed(a, 1, 1, 1.0), NOW);
            log.hear(s, computed(a, 1, 2, 1.0), NOW);
            assertEquals(2, log.failures());
        }
        assertTrue(registry.scrape().stream().anyMatch(m -> m.getMetadata().getPrometheusName()
                .equals("clmr_step_log_errors") && m.getDataPoints().size() == 1));
    }
}

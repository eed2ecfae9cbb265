package org.clmr.worker.train;

import com.typesafe.config.Config;
import org.clmr.protocol.checkpoint.DirectoryCheckpointStore;
import org.clmr.protocol.run.RunSpec;
import org.clmr.protocol.steplog.StepLog;
import org.clmr.protocol.steplog.StepRow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(120)
class StepLogListenerTest {

    /** Stands for the process dying right after a step (its row is written, no checkpoint follows). */
    private static final class Interrupted extends RuntimeException {
        Interrupted(long step) {
            super("interrupted after step " + step);
        }
    }

    private static Trainer trainer(Config c, Path runDir, TrainListener listener) {
        RunSpec spec = RunSpec.from(c);
        return new Trainer(spec, TrainSettings.from(c), TrainerTest.tones(spec),
                new DirectoryCheckpointStore(runDir.resolve("checkpoints")), "run", listener);
    }

    @Test
    void shouldHoldEveryStepOnceAfterARunInterruptedPastItsCheckpointResumes(@TempDir Path straightDir,
                                                                           @TempDir Path runDir) throws IOException {
        Config c = TrainerTest.config();  // a checkpoint every 3 steps
        try (StepLogListener log = StepLogListener.open(straightDir, "run", Clock.systemUTC());
             Trainer t = trainer(c, straightDir, log)) {
            t.run(10);
        }
        List<StepRow> straight = StepLog.read(StepLog.fileFor(straightDir, "run"));

        try (StepLogListener log = StepLogListener.open(runDir, "run", Clock.systemUTC());
             Trainer t = trainer(c, runDir, TrainListener.all(log, new TrainListener() {
                 @Override
                 public void onStep(StepReport r) {
                     if (r.step() == 7) {
                         throw new Interrupted(7);
                     }
                 }
             }))) {
            assertThrows(Interrupted.class, () -> t.run(10));
        }
        Path file = StepLog.fileFor(runDir, "run");
        assertEquals(steps(1, 7), StepLog.read(file).stream().map(StepRow::step).toList(),
                "steps 1-7 were logged; the newest checkpoint is of step 6");
        try (StepLogListener log = StepLogListener.open(runDir, "run", Clock.systemUTC());
             Trainer t = trainer(c, runDir, log)) {
            assertEquals(6, t.completedSteps());
            t.run(10);
            assertEquals(0, log.failures());
        }
        List<StepRow> resumed = StepLog.read(file);
        assertEquals(steps(1, 10), resumed.stream().map(StepRow::step).toList(), "every step once, in order");
        for (int i = 0; i < resumed.size(); i++) {
            StepRow r = resumed.get(i);
            assertEquals(straight.get(i).loss(), r.loss(), 1e-6, "step " + r.step() + " has the straight run's loss");
            assertEquals(0, r.generation());
            assertEquals(1, r.members());
            assertTrue(r.samplesPerSecond() > 0 && r.phases().stepMs() > 0, r.toCsv());
            assertTrue(r.phases().forwardMs() > 0 && r.phases().backwardMs() > 0, r.toCsv());
            assertTrue(r.workers().isEmpty());
        }
        assertTrue(resumed.get(6).time().isAfter(resumed.get(5).time()), "step 7 is the recomputed row, after step 6's");
    }

    private static List<Long> steps(long from, long to) {
        return LongStream.rangeClosed(from, to).boxed().toList();
    }
}

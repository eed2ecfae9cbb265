package org.clmr.worker.train;

import org.clmr.protocol.cluster.CoordinatorProtocol.StepTimes;
import org.clmr.protocol.steplog.StepLog;
import org.clmr.protocol.steplog.StepRow;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;

/**
 * Writes the per-step log of {@code clmr train} ({@link StepLog}: {@code RUN_DIR/steps-RUN_ID.csv}), one row per
 * step as the {@link Trainer} reports it. A resumed run recomputes the steps after its checkpoint, whose rows then
 * replace the earlier ones, so the log holds every step once. A row that cannot be written is counted and logged
 * (the first, then every 100th), never a reason to stop training. Training thread only.
 */
public final class StepLogListener implements TrainListener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StepLogListener.class);

    private final StepLog log;
    private final Clock clock;
    private long failures;

    private StepLogListener(StepLog log, Clock clock) {
        this.log = log;
        this.clock = clock;
    }

    /**
     * Opens (or creates) the step log of run {@code runId} in {@code runDir}.
     *
     * @throws IOException when the file cannot be created or read
     */
    public static StepLogListener open(Path runDir, String runId, Clock clock) throws IOException {
        return new StepLogListener(StepLog.open(StepLog.fileFor(runDir, runId)), clock);
    }

    /** The log's file. */
    public Path file() {
        return log.file();
    }

    /** Rows that could not be written so far. */
    public long failures() {
        return failures;
    }

    @Override
    public void onStep(StepReport r) {
        StepTimes t = r.times();
        StepRow row = new StepRow(r.step(), r.epoch(), r.loss(), r.samplesPerSecond(), r.generation(), 1,
                StepRow.Phases.ofNanos(t.dataNs(), t.forwardNs(), t.lossNs(), t.communicationNs(), t.backwardNs(),
                        t.optimizerNs(), t.wallNs()), clock.instant(), Map.of());
        try {
            log.write(row);
        } catch (IOException e) {
            failures++;
            if (failures == 1 || failures % 100 == 0) {
                LOG.warn("step {} is not in the step log {} ({} row(s) lost so far): {}", r.step(), log.file(),
                        failures, e.toString());
            }
        }
    }

    /** Closes the file; a failure to close it is logged (every row is already written). */
    @Override
    public void close() {
        try {
            log.close();
        } catch (IOException e) {
            LOG.warn("closing the step log {}: {}", log.file(), e.toString());
        }
    }
}

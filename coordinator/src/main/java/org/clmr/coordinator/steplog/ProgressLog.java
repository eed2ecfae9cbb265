package org.clmr.coordinator.steplog;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.clmr.coordinator.journal.CoordinatorState;
import org.clmr.coordinator.journal.RunData;
import org.clmr.protocol.cluster.CoordinatorProtocol.Progress;
import org.clmr.protocol.cluster.CoordinatorProtocol.StepTimes;
import org.clmr.protocol.steplog.StepLog;
import org.clmr.protocol.steplog.StepRow;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A cluster run's per-step log, written by the coordinator from what members report after every step: one row
 * per step ({@link StepRow}) in {@code RUN_DIR/steps-RUN_ID.csv} once every member of the generation reported it
 * (their phase times averaged, their tracks per second listed and summed). Steps a new generation computes again
 * (it resumed from a checkpoint older than the newest row) replace their rows ({@link StepLog}), so the log
 * holds every step of the run once.
 *
 * <p>What it hears, and what it leaves out: only reports of the current generation's members that computed their
 * step (a report without step times repeats a state adopted from a broadcast); a report of a step already written
 * in this generation (members repeat their newest report while they wait at a plan boundary). A step that some
 * members never reported (their reports were lost with a coordinator incarnation, or the member died after it)
 * is written with the reports there are when a newer step is complete, the generation ends, another run starts or
 * the node stops. A completed run still hears its last step's late reports. Steps reported to nobody (while no
 * coordinator ran) are missing from the log; {@code clmr report} lists such gaps.
 *
 * <p>One instance per coordinator node, shared by the coordinator's incarnations on that node, used from the
 * coordinator actor's thread only. A row that cannot be written is counted ({@code clmr_step_log_errors_total})
 * and logged (the first, then every 100th), never a reason to stop the run.
 */
public final class ProgressLog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProgressLog.class);

    private final Path runDir;
    private final Counter errors;
    /** Reports of steps not written yet, by step, then worker. */
    private final TreeMap<Long, TreeMap<String, Progress>> pending = new TreeMap<>();
    private StepLog log;
    private String runId;
    private long generation = -1;
    private int members;
    private int globalBatch;
    private long written;
    private long failures;
    /** The time of the newest report heard: the time of rows written when the node stops. */
    private Instant lastHeard = Instant.EPOCH;

    private ProgressLog(Path runDir, Counter errors) {
        this.runDir = runDir;
        this.errors = errors;
    }

    /** A log in {@code runDir}, its error counter registered in {@code registry}. */
    public static ProgressLog in(Path runDir, PrometheusRegistry registry) {
        return new ProgressLog(runDir, Counter.builder().name("clmr_step_log_errors_total")
                .help("Rows of the per-step log (RUN_DIR/steps-RUN_ID.csv) that could not be written").register(registry));
    }

    /** No log (a coordinator without a run directory of its own, as some tests start it). */
    public static ProgressLog none() {
        return new ProgressLog(null, null);
    }

    /** Rows that could not be written so far. */
    public long failures() {
        return failures;
    }

    /**
     * Hears a progress report; writes the rows it completes.
     *
     * @param state the coordinator's state when the report arrived
     * @param now   the coordinator's clock: the row's time
     */
    public void hear(CoordinatorState state, Progress p, Instant now) {
        // a completed run still hears the last step's reports of the members that finished it after the first
        if (runDir == null || p.times() == null || state.run().isEmpty()) {
            return;
        }
        RunData run = state.run().orElseThrow();
        if (p.generation() != run.generation() || run.member(p.workerId()).isEmpty()) {
            return;
        }
        lastHeard = now;
        if (!run.runId().equals(runId) && !openFor(run.runId(), now)) {
            return;
        }
        if (p.generation() != generation) {
            writeUpTo(Long.MAX_VALUE, now);
            generation = p.generation();
            written = log.lastGeneration() == generation ? log.lastStep() : 0;
        }
        members = run.members().size();
        globalBatch = run.spec().globalBatch();
        if (p.step() <= written) {
            return;
        }
        TreeMap<String, Progress> reports = pending.computeIfAbsent(p.step(), s -> new TreeMap<>());
        reports.put(p.workerId(), p);
        if (reports.size() >= members) {
            writeUpTo(p.step(), now);
        }
    }

    /** Writes every pending step up to {@code last}, in step order. */
    private void writeUpTo(long last, Instant now) {
        while (!pending.isEmpty() && pending.firstKey() <= last) {
            Map.Entry<Long, TreeMap<String, Progress>> e = pending.pollFirstEntry();
            write(row(e.getKey(), e.getValue(), now));
            written = Math.max(written, e.getKey());
        }
    }

    private StepRow row(long step, TreeMap<String, Progress> reports, Instant now) {
        List<StepRow.Phases> phases = new ArrayList<>();
        Map<String, Double> workers = new TreeMap<>();
        long slowest = 0;
        for (Progress p : reports.values()) {
            StepTimes t = p.times();
            phases.add(StepRow.Phases.ofNanos(t.dataNs(), t.forwardNs(), t.lossNs(), t.communicationNs(),
                    t.backwardNs(), t.optimizerNs(), t.wallNs()));
            workers.put(p.workerId(), p.samplesPerSecond());
            slowest = Math.max(slowest, t.wallNs());
        }
        Progress any = reports.firstEntry().getValue();
        // members finish a step together (its collectives synchronise them): the batch over the slowest one's time
        double total = slowest > 0 ? globalBatch / (slowest / 1e9) : 0;
        return new StepRow(step, any.epoch(), any.loss(), total, any.generation(), members,
                StepRow.Phases.mean(phases), now, workers);
    }

    private void write(StepRow row) {
        try {
            log.write(row);
        } catch (IOException e) {
            failed("step " + row.step() + " is not in the step log " + log.file(), e);
        }
    }

    private boolean openFor(String newRunId, Instant now) {
        if (log != null) {
            writeUpTo(Long.MAX_VALUE, now);
        }
        closeFile();
        pending.clear();
        generation = -1;
        runId = newRunId;
        try {
            log = StepLog.open(StepLog.fileFor(runDir, newRunId));
            return true;
        } catch (IOException e) {
            runId = null;
            failed("cannot open the step log of run " + newRunId + " in " + runDir, e);
            return false;
        }
    }

    private void failed(String what, IOException e) {
        failures++;
        errors.inc();
        if (failures == 1 || failures % 100 == 0) {
            LOG.warn("{} ({} failure(s) so far): {}", what, failures, e.toString());
        }
    }

    /**
     * Writes the steps some members reported and others never will (the node stops), then closes the file; a
     * failure to close it is logged.
     */
    @Override
    public void close() {
        if (log != null) {
            writeUpTo(Long.MAX_VALUE, lastHeard);
        }
        closeFile();
    }

    private void closeFile() {
        if (log == null) {
            return;
        }
        try {
            log.close();
        } catch (IOException e) {
            LOG.warn("closing the step log {}: {}", log.file(), e.toString());
        }
        log = null;
        runId = null;
    }
}

package org.clmr.ops.report;

import com.typesafe.config.Config;
import org.clmr.coordinator.CoordinatorSettings;
import org.clmr.coordinator.history.HistoryEntry;
import org.clmr.coordinator.history.HistoryReader;
import org.clmr.eval.report.RunEvent;
import org.clmr.eval.report.TrainingReport;
import org.clmr.protocol.UserError;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.checkpoint.DirectoryCheckpointStore;
import org.clmr.protocol.steplog.StepLog;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Gathers what {@code clmr report} shows of a run directory and writes the report ({@link TrainingReport}): the
 * run's per-step log, and its events: from the coordinator's journal for a cluster run ({@link HistoryReader}, the
 * coordinator database in the run directory or {@code clmr.coordinator.database}), from the checkpoint directory
 * for {@code clmr train}. Caller's thread.
 */
public final class RunReport {
    private static final String PREFIX = "steps-";
    private static final String SUFFIX = ".csv";

    private RunReport() {
    }

    /**
     * What was written.
     *
     * @param markdown the report's page
     * @param runId    the run it is about
     * @param note     one line on the choice of run when the directory holds several, else empty
     * @param cluster  whether it is a cluster run (its report has the members plot)
     */
    public record Written(Path markdown, String runId, String note, boolean cluster) {
    }

    /**
     * Writes the report of run {@code runId} (null: the run whose step log changed last) of {@code runDir} into
     * {@code out}.
     *
     * @throws UserError when the run directory holds no step log (of that run)
     */
    public static Written write(Config config, Path runDir, String runId, Path out) throws IOException {
        List<Path> logs = stepLogs(runDir);
        Path log;
        String note = "";
        if (runId != null) {
            log = StepLog.fileFor(runDir, runId);
            if (!Files.isRegularFile(log)) {
                throw new UserError("no step log of run " + runId + " in " + runDir + " (" + log.getFileName()
                        + "); it holds " + (logs.isEmpty() ? "none" : "those of " + String.join(", ", runIds(logs))));
            }
        } else if (logs.isEmpty()) {
            throw new UserError("no step log (steps-RUN_ID.csv) in " + runDir + ": give the --run-dir of a clmr train"
                    + " run or of a cluster coordinator (clmr train --workers, clmr demo's run/)");
        } else {
            log = logs.get(logs.size() - 1);
            if (logs.size() > 1) {
                note = runDir + " holds the step logs of runs " + String.join(", ", runIds(logs)) + "; this is the"
                        + " report of the newest, " + runIdOf(log) + " (--run-id chooses another)";
            }
        }
        String id = runIdOf(log);
        boolean cluster = isCluster(config, runDir);
        TrainingReport.Run run = cluster ? clusterRun(config, runDir, id, log) : singleRun(runDir, id, log);
        List<Path> files = TrainingReport.write(out, run);
        return new Written(files.get(0), id, note, cluster);
    }

    private static boolean isCluster(Config config, Path runDir) {
        return Files.isRegularFile(runDir.resolve("coordinator.mv.db"))
                || !CoordinatorSettings.from(config).database().url().isEmpty();
    }

    private static TrainingReport.Run clusterRun(Config config, Path runDir, String runId, Path log) {
        List<HistoryEntry> history = HistoryReader.offline(config, runDir, Duration.ofSeconds(60)).stream()
                .filter(e -> StepLog.fileFor(runDir, e.runId()).equals(log)).toList();
        List<RunEvent> events = new ArrayList<>();
        List<TrainingReport.HistoryLine> lines = new ArrayList<>();
        int members = 0;
        for (HistoryEntry e : history) {
            lines.add(new TrainingReport.HistoryLine(e.at(), e.kind().label(), e.text()));
            Map<String, Object> d = e.details();
            switch (e.kind()) {
                case STARTED -> events.add(new RunEvent(e.at(), 0, RunEvent.Kind.STARTED, e.text(), -1));
                case GENERATION -> {
                    members = ((List<?>) d.get("members")).size();
                    long step = ((Number) ((Map<?, ?>) d.get("resume")).get("step")).longValue();
                    events.add(new RunEvent(e.at(), step, RunEvent.Kind.GENERATION, "g" + d.get("generation") + ": "
                            + d.get("reason"), members));
                }
                case REMOVED -> {
                    if (Boolean.TRUE.equals(d.get("wasMember"))) {
                        members = Math.max(0, members - 1);
                    }
                    events.add(new RunEvent(e.at(), -1, RunEvent.Kind.REMOVAL, e.text(),
                            Boolean.TRUE.equals(d.get("wasMember")) ? members : -1));
                }
                case CHECKPOINT -> events.add(new RunEvent(e.at(), ((Number) d.get("step")).longValue(),
                        RunEvent.Kind.CHECKPOINT, e.text(), -1));
                case PAUSED -> events.add(new RunEvent(e.at(), -1, RunEvent.Kind.PAUSE, e.text(), -1));
                case RESUMED -> events.add(new RunEvent(e.at(), -1, RunEvent.Kind.RESUME, e.text(), -1));
                case COMPLETED -> events.add(new RunEvent(e.at(), -1, RunEvent.Kind.COMPLETED, e.text(), -1));
                default -> {
                    // joins and epochs are in the history table; the plots have no mark for them
                }
            }
        }
        return new TrainingReport.Run(runId, "A cluster run (its coordinator's journal and step log in " + runDir + ")",
                log, events, lines);
    }

    private static TrainingReport.Run singleRun(Path runDir, String runId, Path log) {
        List<RunEvent> events = new ArrayList<>();
        Path checkpoints = runDir.resolve("checkpoints");
        if (Files.isDirectory(checkpoints.resolve(runId))) {
            for (CheckpointRecord r : new DirectoryCheckpointStore(checkpoints).list(runId)) {
                events.add(new RunEvent(r.createdAt(), r.step(), RunEvent.Kind.CHECKPOINT,
                        "checkpoint of step " + r.step(), -1));
            }
        }
        events.sort(Comparator.comparing(RunEvent::at));
        return new TrainingReport.Run(runId, "A single-process run (clmr train; its checkpoints in " + checkpoints
                + ", the ones retention kept)", log, events, List.of());
    }

    /** The step logs in a run directory, the one changed last at the end. */
    private static List<Path> stepLogs(Path runDir) throws IOException {
        if (!Files.isDirectory(runDir)) {
            throw new UserError("--run-dir " + runDir + " is not a directory");
        }
        try (Stream<Path> s = Files.list(runDir)) {
            return s.filter(p -> p.getFileName().toString().startsWith(PREFIX)
                            && p.getFileName().toString().endsWith(SUFFIX) && Files.isRegularFile(p))
                    .sorted(Comparator.comparing(RunReport::modified)).toList();
        }
    }

    private static long modified(Path p) {
        try {
            return Files.getLastModifiedTime(p).toMillis();
        } catch (IOException e) {
            return 0;
        }
    }

    private static List<String> runIds(List<Path> logs) {
        return logs.stream().map(RunReport::runIdOf).toList();
    }

    private static String runIdOf(Path log) {
        String name = log.getFileName().toString();
        return name.substring(PREFIX.length(), name.length() - SUFFIX.length());
    }
}

package org.clmr.eval.report;

import org.clmr.eval.report.StepSeries.Point;
import org.clmr.protocol.steplog.StepLog;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A training run's report ({@code clmr report}): {@code report.md} with the run's figures, its history and the
 * plots ({@link TrainingPlots}) {@code loss.png}, {@code throughput.png}, {@code step-time.png},
 * {@code timeline.png} and, for a cluster run, {@code members.png}, drawn from the run's per-step log and the events
 * of its history. Caller's thread.
 */
public final class TrainingReport {
    /** File names inside the report directory. */
    public static final String MARKDOWN = "report.md";
    public static final String LOSS = "loss.png";
    public static final String THROUGHPUT = "throughput.png";
    public static final String STEP_TIME = "step-time.png";
    public static final String TIMELINE = "timeline.png";
    public static final String MEMBERS = "members.png";
    /** Points a plot shows at most (about; longer logs are averaged over consecutive steps). */
    static final int MAX_POINTS = 2000;
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss")
            .withZone(ZoneOffset.UTC);

    private TrainingReport() {
    }

    /**
     * A run to report on.
     *
     * @param runId   the run's id
     * @param source  what trained it, for the first line ("a cluster run", "clmr train (one process)")
     * @param stepLog its per-step log
     * @param events  what happened to it, in time order (generations, removals, checkpoints, pauses)
     * @param history its history as {@code clmr history} prints it (empty when it has none)
     */
    public record Run(String runId, String source, Path stepLog, List<RunEvent> events, List<HistoryLine> history) {
        public Run {
            events = List.copyOf(events);
            history = List.copyOf(history);
        }
    }

    /** One line of a run's history. */
    public record HistoryLine(Instant at, String kind, String text) {
    }

    /** Writes the report into {@code out} (created); returns the files written. */
    public static List<Path> write(Path out, Run run) throws IOException {
        Files.createDirectories(out);
        StepSeries series = new StepSeries(MAX_POINTS);
        StepLog.scan(run.stepLog(), series);
        Instant start = run.events().stream().filter(e -> e.kind() == RunEvent.Kind.STARTED).map(RunEvent::at)
                .findFirst().orElse(series.firstTime() != null ? series.firstTime() : Instant.EPOCH);
        TrainingPlots.loss(series, run.events(), "Loss per step, run " + run.runId(), out.resolve(LOSS));
        TrainingPlots.throughput(series, "Throughput, run " + run.runId(), out.resolve(THROUGHPUT));
        TrainingPlots.phases(series, "Where a step's time goes, run " + run.runId(), out.resolve(STEP_TIME));
        TrainingPlots.timeline(series, run.events(), start, "Steps over time, run " + run.runId(), out.resolve(TIMELINE));
        List<Path> files = new ArrayList<>(List.of(out.resolve(MARKDOWN), out.resolve(LOSS), out.resolve(THROUGHPUT),
                out.resolve(STEP_TIME), out.resolve(TIMELINE)));
        boolean cluster = run.events().stream().anyMatch(e -> e.kind() == RunEvent.Kind.GENERATION);
        if (cluster) {
            TrainingPlots.members(series, run.events(), start, "Members and generations over time, run " + run.runId(),
                    out.resolve(MEMBERS));
            files.add(out.resolve(MEMBERS));
        } else {
            Files.deleteIfExists(out.resolve(MEMBERS));  // an earlier report's, of another run
        }
        Files.writeString(out.resolve(MARKDOWN), markdown(run, series, start, cluster), StandardCharsets.UTF_8);
        return List.copyOf(files);
    }

    static String markdown(Run run, StepSeries series, Instant start, boolean cluster) {
        StringBuilder md = new StringBuilder();
        List<Point> points = series.points();
        md.append("# Training report: run ").append(run.runId()).append("\n\n");
        md.append(run.source()).append("; step log `").append(run.stepLog().getFileName()).append("`: ");
        if (points.isEmpty()) {
            md.append("no step yet.\n\n");
        } else {
            Point last = points.get(points.size() - 1);
            md.append(String.format(Locale.ROOT, "%d steps (up to step %d), from %s to %s UTC (%s).%s%n%n",
                    series.rows(), last.step(), TIME.format(start), TIME.format(last.time()),
                    duration(Duration.between(start, last.time())), gaps(series)));
            md.append(figures(series, run.events())).append("\n");
        }
        md.append("## Loss\n\n![loss per step](").append(TrainingReport.LOSS).append(")\n\n")
                .append(series.stepsPerPoint() == 1 ? "The loss of every step" : "Each point the mean loss of "
                        + series.stepsPerPoint() + " consecutive steps")
                .append(" (light) and its moving average (dark); diamonds: committed checkpoints; dotted lines:"
                        + " generation changes.\n\n");
        md.append("## Throughput\n\n![tracks per second](").append(THROUGHPUT).append(")\n\n")
                .append("Tracks of the global batch per second of step time (moving averages): each worker's own share"
                        + " and the whole run's (the batch over the slowest member's step time).\n\n");
        md.append("## Where a step's time goes\n\n![step time by phase](").append(STEP_TIME).append(")\n\n");
        md.append(phaseTable(points)).append("\n");
        md.append("## Over time\n\n![steps over time](").append(TIMELINE).append(")\n\n")
                .append("Steps completed against time (flat stretches: the run was not training); diamonds: committed"
                        + " checkpoints").append(cluster ? "; dotted lines: generations.\n\n" : ".\n\n");
        if (cluster) {
            md.append("![members and generations](").append(MEMBERS).append(")\n\n");
            md.append(changes(run.events(), start));
        }
        if (!run.history().isEmpty()) {
            md.append("## History\n\nFrom the coordinator's journal (`clmr history`).\n\n| time (UTC) | kind | what |\n"
                    + "| --- | --- | --- |\n");
            for (HistoryLine h : run.history()) {
                md.append("| ").append(TIME.format(h.at())).append(" | ").append(h.kind()).append(" | ")
                        .append(h.text().replace("|", "\\|")).append(" |\n");
            }
        }
        return md.toString();
    }

    private static String figures(StepSeries series, List<RunEvent> events) {
        List<Point> points = series.points();
        List<Point> finite = points.stream().filter(p -> Double.isFinite(p.loss())).toList();
        StringBuilder f = new StringBuilder();
        if (!finite.isEmpty()) {
            double[] loss = finite.stream().mapToDouble(Point::loss).toArray();
            double[] smooth = TrainingPlots.ema(loss, TrainingPlots.smoothingWindow(loss.length));
            f.append(String.format(Locale.ROOT, "- loss: %.4f at the first point, %.4f at the last (moving average"
                    + " %.4f)%n", loss[0], loss[loss.length - 1], smooth[smooth.length - 1]));
        }
        List<Point> tail = points.subList(points.size() - Math.max(1, points.size() / 10), points.size());
        f.append(String.format(Locale.ROOT, "- throughput over the last tenth of the run: %.1f tracks/s; data wait"
                + " %.1f%% of step time%n", tail.stream().mapToDouble(Point::samplesPerSecond).average().orElse(0),
                100 * tail.stream().mapToDouble(p -> p.phases().dataWaitShare()).average().orElse(0)));
        long checkpoints = events.stream().filter(e -> e.kind() == RunEvent.Kind.CHECKPOINT).count();
        long generations = events.stream().filter(e -> e.kind() == RunEvent.Kind.GENERATION).count();
        long removals = events.stream().filter(e -> e.kind() == RunEvent.Kind.REMOVAL).count();
        f.append("- checkpoints committed: ").append(checkpoints);
        events.stream().filter(e -> e.kind() == RunEvent.Kind.CHECKPOINT).reduce((a, b) -> b)
                .ifPresent(e -> f.append(" (the last of step ").append(e.step()).append(")"));
        f.append("\n");
        if (generations > 0) {
            f.append("- generations: ").append(generations).append("; workers removed: ").append(removals)
                    .append("; workers: ").append(String.join(", ", series.workers())).append("\n");
        }
        return f.toString();
    }

    private static String phaseTable(List<Point> points) {
        if (points.isEmpty()) {
            return "";
        }
        String[] names = {"data", "forward", "loss", "communication", "backward", "optimizer", "whole step"};
        double[] sum = new double[names.length];
        long steps = 0;
        for (Point p : points) {
            double[] v = {p.phases().dataMs(), p.phases().forwardMs(), p.phases().lossMs(), p.phases().communicationMs(),
                p.phases().backwardMs(), p.phases().optimizerMs(), p.phases().stepMs()};
            for (int i = 0; i < v.length; i++) {
                sum[i] += v[i] * p.steps();
            }
            steps += p.steps();
        }
        StringBuilder t = new StringBuilder("Mean over the run (each member's own time, averaged over members):\n\n"
                + "| phase | ms per step | share of the step |\n| --- | ---: | ---: |\n");
        for (int i = 0; i < names.length; i++) {
            double mean = sum[i] / steps;
            t.append(String.format(Locale.ROOT, "| %s | %.1f | %.1f%% |%n", names[i], mean,
                    100 * mean / Math.max(1e-9, sum[names.length - 1] / steps)));
        }
        return t.toString();
    }

    private static String changes(List<RunEvent> events, Instant start) {
        List<String> lines = new ArrayList<>();
        for (RunEvent e : events) {
            if (e.kind() == RunEvent.Kind.GENERATION || e.kind() == RunEvent.Kind.REMOVAL
                    || e.kind() == RunEvent.Kind.PAUSE || e.kind() == RunEvent.Kind.RESUME) {
                lines.add(String.format(Locale.ROOT, "- %.1f min: %s%n", TrainingPlots.minutes(start, e.at()), e.label()));
            }
        }
        return "Members against time; dotted lines: generations, labelled with their reasons; crosses: workers"
                + " removed. Every change:\n\n" + String.join("", lines) + "\n";
    }

    private static String gaps(StepSeries series) {
        List<long[]> gaps = series.gaps();
        if (gaps.isEmpty()) {
            return " Every step from 1 on is in the log.";
        }
        List<String> shown = gaps.stream().limit(10).map(g -> g[0] == g[1] ? "" + g[0] : g[0] + "-" + g[1]).toList();
        return " Steps missing from the log (reported to no coordinator): " + String.join(", ", shown)
                + (gaps.size() > 10 ? " and " + (gaps.size() - 10) + " more ranges" : "") + ".";
    }

    private static String duration(Duration d) {
        long s = Math.max(0, d.toSeconds());
        return s < 120 ? s + " s" : s < 7200 ? String.format(Locale.ROOT, "%.1f min", s / 60.0)
                : String.format(Locale.ROOT, "%.1f h", s / 3600.0);
    }
}

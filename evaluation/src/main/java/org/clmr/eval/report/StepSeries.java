package org.clmr.eval.report;

import org.clmr.protocol.steplog.StepRow;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A run's per-step log reduced to what a plot can show: at most about {@code maxPoints} points, each the mean of
 * consecutive steps (one step per point while the log is short), gathered as the log is read so that a run of
 * millions of steps never sits in memory. It also counts the rows and finds the steps missing from the log.
 * Fed on one thread ({@link org.clmr.protocol.steplog.StepLog#scan}).
 */
public final class StepSeries implements Consumer<StepRow> {
    private final int maxPoints;
    private final List<Point> points = new ArrayList<>();
    private final List<long[]> gaps = new ArrayList<>();
    private final List<String> workers = new ArrayList<>();
    private int perPoint = 1;
    private Point open;
    private long rows;
    private long previous;
    private Instant first;

    /**
     * One point of a plot: the mean of {@code steps} consecutive rows, ending at {@code step}.
     *
     * @param loss             mean of the finite losses (NaN when none was)
     * @param samplesPerSecond mean total throughput
     * @param workers          mean throughput per worker, over the rows that list it
     * @param phases           mean phase times
     * @param time             the last row's time
     * @param members          the last row's members
     * @param generation       the last row's generation
     */
    public record Point(long step, int steps, double loss, double samplesPerSecond, Map<String, Double> workers,
                        StepRow.Phases phases, Instant time, int members, long generation) {
    }

    /** A series of at most about {@code maxPoints} points (at least 2). */
    public StepSeries(int maxPoints) {
        this.maxPoints = Math.max(2, maxPoints);
    }

    @Override
    public void accept(StepRow row) {
        rows++;
        if (first == null) {
            first = row.time();
        }
        if (row.step() > previous + 1) {
            gaps.add(new long[] {previous + 1, row.step() - 1});
        }
        previous = Math.max(previous, row.step());
        row.workers().keySet().stream().filter(id -> !workers.contains(id)).forEach(workers::add);
        Point p = new Point(row.step(), 1, row.loss(), row.samplesPerSecond(), row.workers(), row.phases(), row.time(),
                row.members(), row.generation());
        open = open == null ? p : merge(open, p);
        if (open.steps() >= perPoint) {
            points.add(open);
            open = null;
            if (points.size() >= 2 * maxPoints) {
                halve();
            }
        }
    }

    /** The points, the last possibly of fewer steps. */
    public List<Point> points() {
        List<Point> all = new ArrayList<>(points);
        if (open != null) {
            all.add(open);
        }
        return Collections.unmodifiableList(all);
    }

    /** Steps (rows) per point, but for the last. */
    public int stepsPerPoint() {
        return perPoint;
    }

    /** Rows read. */
    public long rows() {
        return rows;
    }

    /** Ranges of steps {@code [from, to]} missing before the last row (from step 1 on). */
    public List<long[]> gaps() {
        return List.copyOf(gaps);
    }

    /** The worker ids, in order of first appearance. */
    public List<String> workers() {
        return List.copyOf(workers);
    }

    /** The first row's time, or null. */
    public Instant firstTime() {
        return first;
    }

    private void halve() {
        List<Point> merged = new ArrayList<>();
        for (int i = 0; i + 1 < points.size(); i += 2) {
            merged.add(merge(points.get(i), points.get(i + 1)));
        }
        if (points.size() % 2 == 1) {
            merged.add(points.get(points.size() - 1));
        }
        points.clear();
        points.addAll(merged);
        perPoint *= 2;
    }

    /** Two consecutive points as one: means weighted by their steps, the later one's step, time and membership. */
    static Point merge(Point a, Point b) {
        int n = a.steps() + b.steps();
        double wa = a.steps() / (double) n;
        double wb = b.steps() / (double) n;
        double loss = Double.isFinite(a.loss()) && Double.isFinite(b.loss()) ? wa * a.loss() + wb * b.loss()
                : Double.isFinite(a.loss()) ? a.loss() : b.loss();
        Map<String, Double> workers = new LinkedHashMap<>(a.workers());
        b.workers().forEach((id, v) -> workers.merge(id, v, (x, y) -> wa * x + wb * y));
        StepRow.Phases pa = a.phases();
        StepRow.Phases pb = b.phases();
        StepRow.Phases phases = new StepRow.Phases(wa * pa.dataMs() + wb * pb.dataMs(),
                wa * pa.forwardMs() + wb * pb.forwardMs(), wa * pa.lossMs() + wb * pb.lossMs(),
                wa * pa.communicationMs() + wb * pb.communicationMs(), wa * pa.backwardMs() + wb * pb.backwardMs(),
                wa * pa.optimizerMs() + wb * pb.optimizerMs(), wa * pa.stepMs() + wb * pb.stepMs());
        return new Point(b.step(), n, loss, wa * a.samplesPerSecond() + wb * b.samplesPerSecond(), workers, phases,
                b.time(), b.members(), b.generation());
    }
}

package org.clmr.eval.report;

import org.clmr.eval.report.StepSeries.Point;
import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.AnnotationText;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * A training run's PNG plots (XChart, headless): loss per step, throughput per worker and in total, where a step's
 * time goes, and the run over time (steps, members, generations with their reasons, checkpoints). Caller's thread.
 */
public final class TrainingPlots {
    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c),
        new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf), new Color(0xbcbd22)};
    private static final Color RAW = new Color(0xaec7e8);
    private static final Color GENERATION = new Color(0x7f7f7f);
    private static final Color CHECKPOINT = new Color(0x2ca02c);
    private static final Color REMOVAL = new Color(0xd62728);
    private static final BasicStroke DOTTED = new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
            new float[] {3f, 3f}, 0f);
    /** Generation lines labelled on the timeline; more would cover each other (the report lists them all). */
    private static final int MAX_LABELS = 12;
    /** About the plot area's width and an 11-point character's, in the chart's pixels (to place labels). */
    private static final double PLOT_WIDTH = 940;
    private static final double CHAR_WIDTH = 6.2;

    private TrainingPlots() {
    }

    /**
     * Loss per step: the raw points, their exponential moving average, committed checkpoints (diamonds on the
     * average) and generation changes (dotted lines).
     */
    public static void loss(StepSeries series, List<RunEvent> events, String title, Path png) throws IOException {
        List<Point> points = finite(series.points());
        XYChart chart = chart(title, "step", "NT-Xent loss");
        if (points.isEmpty()) {
            empty(chart, "no finite loss in the step log");
        } else {
            double[] x = values(points, p -> p.step());
            double[] y = values(points, Point::loss);
            String raw = series.stepsPerPoint() == 1 ? "loss per step" : "loss, mean of " + series.stepsPerPoint()
                    + " steps";
            line(chart.addSeries(raw, x, y), RAW, new BasicStroke(1f));
            int window = smoothingWindow(points.size());
            double[] smooth = ema(y, window);
            line(chart.addSeries("moving average (~" + window * series.stepsPerPoint() + " steps)", x, smooth),
                    PALETTE[0], new BasicStroke(2.2f));
            markCheckpoints(chart, events, x, smooth);
            markGenerations(chart, events, x[0]);
            roundTicks(chart, x[x.length - 1], true);
        }
        save(chart, png);
    }

    /** Tracks per second: each worker's (thin) and the run's (thick), each a moving average. */
    public static void throughput(StepSeries series, String title, Path png) throws IOException {
        List<Point> points = series.points();
        XYChart chart = chart(title, "step", "tracks per second");
        if (points.isEmpty()) {
            empty(chart, "no step in the step log");
            save(chart, png);
            return;
        }
        int window = smoothingWindow(points.size());
        double[] x = values(points, p -> p.step());
        List<String> workers = series.workers();
        for (int w = 0; w < workers.size(); w++) {
            String id = workers.get(w);
            List<double[]> xy = new ArrayList<>();
            for (Point p : points) {
                Double v = p.workers().get(id);
                if (v != null) {
                    xy.add(new double[] {p.step(), v});
                }
            }
            double[] wx = xy.stream().mapToDouble(v -> v[0]).toArray();
            double[] wy = ema(xy.stream().mapToDouble(v -> v[1]).toArray(), window);
            line(chart.addSeries(id, wx, wy), PALETTE[(w + 1) % PALETTE.length], new BasicStroke(1.3f));
        }
        line(chart.addSeries(workers.isEmpty() ? "this process" : "all workers",
                x, ema(values(points, Point::samplesPerSecond), window)), Color.BLACK, new BasicStroke(2.4f));
        chart.getStyler().setYAxisMin(0.0);
        roundTicks(chart, x[x.length - 1], true);
        save(chart, png);
    }

    /** Where a step's time goes, stacked by phase (the members' mean per step, a moving average). */
    public static void phases(StepSeries series, String title, Path png) throws IOException {
        List<Point> points = series.points();
        XYChart chart = chart(title, "step", "milliseconds per step");
        if (points.isEmpty()) {
            empty(chart, "no step in the step log");
            save(chart, png);
            return;
        }
        int window = smoothingWindow(points.size());
        double[] x = values(points, p -> p.step());
        String[] names = {"data", "forward", "loss", "communication", "backward", "optimizer"};
        List<ToDoubleFunction<Point>> parts = List.of(p -> p.phases().dataMs(), p -> p.phases().forwardMs(),
                p -> p.phases().lossMs(), p -> p.phases().communicationMs(), p -> p.phases().backwardMs(),
                p -> p.phases().optimizerMs());
        double[][] stacked = new double[names.length][];
        double[] sum = new double[x.length];
        for (int k = 0; k < names.length; k++) {
            double[] v = ema(values(points, parts.get(k)), window);
            for (int i = 0; i < sum.length; i++) {
                sum[i] += v[i];
            }
            stacked[k] = sum.clone();
        }
        for (int k = names.length - 1; k >= 0; k--) {  // the tallest first, so that each band shows above the next
            XYSeries s = chart.addSeries(names[k], x, stacked[k]);
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Area);
            s.setMarker(SeriesMarkers.NONE);
            s.setFillColor(PALETTE[k]);
            s.setLineColor(PALETTE[k].darker());
        }
        line(chart.addSeries("whole step", x, ema(values(points, p -> p.phases().stepMs()), window)), Color.BLACK,
                DOTTED);
        chart.getStyler().setYAxisMin(0.0);
        roundTicks(chart, x[x.length - 1], true);
        save(chart, png);
    }

    /**
     * Steps completed over time (flat where the run did not train), committed checkpoints (diamonds) and the
     * generations' starts (dotted lines).
     *
     * @param start the run's start: time 0 on the x axis
     */
    public static void timeline(StepSeries series, List<RunEvent> events, Instant start, String title, Path png)
            throws IOException {
        XYChart chart = chart(title, "minutes since the run started", "steps completed");
        List<Point> points = series.points();
        if (!points.isEmpty()) {
            XYSeries steps = chart.addSeries("steps completed", values(points, p -> minutes(start, p.time())),
                    values(points, p -> p.step()));
            line(steps, PALETTE[0], new BasicStroke(2f));
            roundTicks(chart, points.get(points.size() - 1).step(), false);
        }
        List<RunEvent> checkpoints = events.stream().filter(e -> e.kind() == RunEvent.Kind.CHECKPOINT && e.step() >= 0)
                .toList();
        if (!checkpoints.isEmpty()) {
            scatter(chart.addSeries("checkpoint committed", checkpoints.stream().mapToDouble(e -> minutes(start, e.at()))
                    .toArray(), checkpoints.stream().mapToDouble(RunEvent::step).toArray()), CHECKPOINT, SeriesMarkers.DIAMOND);
        }
        events.stream().filter(e -> e.kind() == RunEvent.Kind.GENERATION)
                .forEach(g -> chart.addAnnotation(new AnnotationLine(minutes(start, g.at()), true, false)));
        if (points.isEmpty() && checkpoints.isEmpty()) {
            empty(chart, "nothing to show");
        }
        chart.getStyler().setXAxisMin(0.0);
        chart.getStyler().setYAxisMin(0.0);
        save(chart, png);
    }

    /**
     * Members over time (a step line), each generation's start as a line labelled with its number and reason (the
     * first {@link #MAX_LABELS}), workers removed (crosses at the members left).
     *
     * @param start the run's start: time 0 on the x axis
     */
    public static void members(StepSeries series, List<RunEvent> events, Instant start, String title, Path png)
            throws IOException {
        XYChart chart = chart(title, "minutes since the run started", "members");
        List<Point> points = series.points();
        List<double[]> xy = new ArrayList<>();
        int current = 0;
        for (RunEvent e : events) {
            if (e.members() >= 0 && (e.kind() == RunEvent.Kind.GENERATION || e.kind() == RunEvent.Kind.REMOVAL)) {
                double t = minutes(start, e.at());
                xy.add(new double[] {t, current});
                current = e.members();
                xy.add(new double[] {t, current});
            }
        }
        double end = Math.max(points.isEmpty() ? 0 : minutes(start, points.get(points.size() - 1).time()),
                events.stream().mapToDouble(e -> minutes(start, e.at())).max().orElse(0));
        if (xy.isEmpty()) {
            empty(chart, "no generation in the run's history");
            save(chart, png);
            return;
        }
        xy.add(new double[] {Math.max(end, xy.get(xy.size() - 1)[0]), current});
        line(chart.addSeries("members", xy.stream().mapToDouble(v -> v[0]).toArray(),
                xy.stream().mapToDouble(v -> v[1]).toArray()), new Color(0xff7f0e), new BasicStroke(2.2f));
        List<RunEvent> removals = events.stream().filter(e -> e.kind() == RunEvent.Kind.REMOVAL && e.members() >= 0).toList();
        if (!removals.isEmpty()) {
            scatter(chart.addSeries("worker removed", removals.stream().mapToDouble(e -> minutes(start, e.at())).toArray(),
                    removals.stream().mapToDouble(RunEvent::members).toArray()), REMOVAL, SeriesMarkers.CROSS);
        }
        int top = (int) xy.stream().mapToDouble(v -> v[1]).max().orElse(1) + 1;
        labelGenerations(chart, events, start, end, top);
        chart.getStyler().setXAxisMin(0.0);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisMax((double) top);
        chart.getStyler().setYAxisDecimalPattern("#,##0");
        chart.getStyler().setYAxisTickMarkSpacingHint(Math.max(30, 400 / top));  // one tick per member
        save(chart, png);
    }

    /**
     * A line at each generation's start, its number and reason written beside it (the first {@link #MAX_LABELS}),
     * on the right of the line, or on its left where the text would run past the end of the plot.
     *
     * @param end the x axis's last minute
     * @param top the y axis's top
     */
    private static void labelGenerations(XYChart chart, List<RunEvent> events, Instant start, double end, double top) {
        List<RunEvent> generations = events.stream().filter(e -> e.kind() == RunEvent.Kind.GENERATION).toList();
        double minutesPerPixel = Math.max(end, 1e-3) / PLOT_WIDTH;
        for (int i = 0; i < generations.size(); i++) {
            RunEvent g = generations.get(i);
            double t = minutes(start, g.at());
            chart.addAnnotation(new AnnotationLine(t, true, false));
            if (i < MAX_LABELS) {
                String text = g.label().length() > 70 ? g.label().substring(0, 67) + "..." : g.label();
                double half = (text.length() * CHAR_WIDTH / 2 + 6) * minutesPerPixel;  // AnnotationText centres its text
                double x = t + 2 * half <= end * 1.02 || t - 2 * half < 0 ? t + half : t - half;
                double y = top * (0.96 - 0.06 * (i % 12));
                chart.addAnnotation(new AnnotationText(text, x, y, false));
            }
        }
    }

    private static void markCheckpoints(XYChart chart, List<RunEvent> events, double[] x, double[] y) {
        List<double[]> at = new ArrayList<>();
        for (RunEvent e : events) {
            if (e.kind() == RunEvent.Kind.CHECKPOINT && e.step() >= x[0] && e.step() <= x[x.length - 1]) {
                at.add(new double[] {e.step(), interpolate(x, y, e.step())});
            }
        }
        if (!at.isEmpty()) {
            scatter(chart.addSeries("checkpoint committed", at.stream().mapToDouble(v -> v[0]).toArray(),
                    at.stream().mapToDouble(v -> v[1]).toArray()), CHECKPOINT, SeriesMarkers.DIAMOND);
        }
    }

    private static void markGenerations(XYChart chart, List<RunEvent> events, double firstStep) {
        for (RunEvent e : events) {
            if (e.kind() == RunEvent.Kind.GENERATION && e.step() > firstStep) {
                chart.addAnnotation(new AnnotationLine(e.step(), true, false));
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    private static XYChart chart(String title, String x, String y) {
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(1100).height(520).title(title).xAxisTitle(x).yAxisTitle(y).build();
        Styler s = chart.getStyler();
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        chart.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        chart.getStyler().setLegendBorderColor(Color.WHITE);
        chart.getStyler().setPlotGridLinesColor(new Color(0xe5e5e5));
        chart.getStyler().setXAxisDecimalPattern("#,##0.##");
        chart.getStyler().setXAxisTickMarkSpacingHint(90);
        chart.getStyler().setYAxisTickMarkSpacingHint(45);
        chart.getStyler().setYAxisDecimalPattern("#,##0.###");
        chart.getStyler().setAnnotationLineColor(GENERATION);
        chart.getStyler().setAnnotationLineStroke(DOTTED);
        chart.getStyler().setAnnotationTextFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        chart.getStyler().setAnnotationTextFontColor(new Color(0x404040));
        s.setChartTitleFont(s.getChartTitleFont().deriveFont(16f));
        return chart;
    }

    private static void empty(XYChart chart, String why) {
        XYSeries s = chart.addSeries(why, new double[] {0}, new double[] {0});
        s.setMarker(SeriesMarkers.NONE);
    }

    private static void save(XYChart chart, Path png) throws IOException {
        BitmapEncoder.saveBitmapWithDPI(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG, 110);
    }

    private static void line(XYSeries s, Color c, BasicStroke stroke) {
        s.setLineColor(c);
        s.setLineStyle(stroke);
        s.setMarker(SeriesMarkers.NONE);
    }

    private static void scatter(XYSeries s, Color c, org.knowm.xchart.style.markers.Marker marker) {
        s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        s.setMarker(marker);
        s.setMarkerColor(c);
    }

    private static List<Point> finite(List<Point> points) {
        return points.stream().filter(p -> Double.isFinite(p.loss())).toList();
    }

    private static double[] values(List<Point> points, ToDoubleFunction<Point> f) {
        return points.stream().mapToDouble(f).toArray();
    }

    static double minutes(Instant start, Instant t) {
        return Duration.between(start, t).toMillis() / 60_000.0;
    }

    /** Points a moving average spans: a 25th of the curve, at least 5 (a quarter of a short one), at least 1. */
    static int smoothingWindow(int points) {
        return Math.max(1, Math.max(Math.min(5, points / 4), points / 25));
    }

    /**
     * Round-numbered ticks on a step axis: XChart gives data of whole numbers a tick per value (unreadable beyond a
     * few dozen) unless the axis has a bound of its own, so the axis ends half a step past the last step.
     *
     * @param x whether the steps are on the x axis (else the y axis)
     */
    private static void roundTicks(XYChart chart, double lastStep, boolean x) {
        if (x) {
            chart.getStyler().setXAxisMax(lastStep + 0.5);
        } else {
            chart.getStyler().setYAxisMax(lastStep + 0.5);
        }
    }

    /** Exponential moving average with the span of a {@code window}-point mean, bias-corrected at the start. */
    static double[] ema(double[] y, int window) {
        double alpha = 2.0 / (window + 1);
        double[] out = new double[y.length];
        double m = 0;
        double weight = 0;
        for (int i = 0; i < y.length; i++) {
            m = (1 - alpha) * m + alpha * y[i];
            weight = (1 - alpha) * weight + alpha;
            out[i] = m / weight;
        }
        return out;
    }

    private static double interpolate(double[] x, double[] y, double at) {
        for (int i = 1; i < x.length; i++) {
            if (x[i] >= at) {
                double f = x[i] == x[i - 1] ? 1 : (at - x[i - 1]) / (x[i] - x[i - 1]);
                return y[i - 1] + f * (y[i] - y[i - 1]);
            }
        }
        return y[y.length - 1];
    }
}

package org.clmr.eval.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.clmr.eval.EvalSettings;
import org.clmr.eval.probe.ProbeEvaluation;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The data-efficiency figure of {@code clmr evaluate --label-fractions}: tag-wise PR-AUC (solid) and ROC-AUC (dashed)
 * on the test split against the fraction of training labels (log axis), one colour per encoder, the standard
 * deviation over seeds as error bars; {@code label-fractions.png}, with {@code label-fractions.md} (the table, each
 * point's report linked) and {@code label-fractions.json} (every number). Caller's thread.
 */
public final class DataEfficiencyReport {
    /**
     * One point of the study ({@code org.clmr.eval.LabelFractions}).
     *
     * @param encoder  the encoder's name in the study ("pre-trained", "random")
     * @param fraction the fraction of training labels
     * @param result   its probes' metrics
     * @param report   its report's page
     */
    public record Point(String encoder, double fraction, ProbeEvaluation.Result result, Path report) {
    }

    /**
     * The training tracks the heads of a point saw: one number, or the range over seeds (a class-balanced subset may
     * take a few more tracks than its fraction to give every tag a positive, and each seed draws its own).
     */
    public static String trainTracks(ProbeEvaluation.Result r) {
        int min = r.runs().stream().mapToInt(ProbeEvaluation.Run::trainClips).min().orElse(0);
        int max = r.runs().stream().mapToInt(ProbeEvaluation.Run::trainClips).max().orElse(0);
        return min == max ? String.valueOf(min) : min + "-" + max;
    }

    /** A fraction as written in folder names and tables: 0.01, 0.1, 1. */
    public static String plain(double f) {
        String s = String.format(Locale.ROOT, "%.6f", f).replaceAll("0+$", "");
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }

    /** File names inside the output directory. */
    public static final String PNG = "label-fractions.png";
    public static final String MARKDOWN = "label-fractions.md";
    public static final String JSON = "label-fractions.json";
    private static final Color[] COLOURS = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
        new Color(0x9467bd)};

    private DataEfficiencyReport() {
    }

    /** Writes the figure, page and JSON of these points (by encoder, then fraction) into {@code out}. */
    public static List<Path> write(Path out, List<Point> points, String dataset, EvalSettings settings)
            throws IOException {
        Files.createDirectories(out);
        Map<String, List<Point>> byEncoder = new LinkedHashMap<>();
        points.forEach(p -> byEncoder.computeIfAbsent(p.encoder(), k -> new ArrayList<>()).add(p));
        plot(byEncoder, "Tag-wise test AUC against labelled fraction, " + dataset + " ("
                + settings.probe().kind().name().toLowerCase(Locale.ROOT) + " head, " + settings.protocol() + " probe)",
                out.resolve(PNG));
        Files.writeString(out.resolve(MARKDOWN), markdown(out, points, dataset, settings), StandardCharsets.UTF_8);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.resolve(JSON).toFile(),
                json(points, dataset, settings));
        return List.of(out.resolve(MARKDOWN), out.resolve(PNG), out.resolve(JSON));
    }

    private static void plot(Map<String, List<Point>> byEncoder, String title, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(900).height(560).title(title)
                .xAxisTitle("fraction of training labels (log scale)").yAxisTitle("tag-wise AUC (test)").build();
        Styler s = chart.getStyler();
        chart.getStyler().setXAxisLogarithmic(true);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        chart.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        chart.getStyler().setLegendBorderColor(Color.WHITE);
        chart.getStyler().setYAxisDecimalPattern("0.00");
        double lowest = byEncoder.values().stream().flatMap(List::stream)
                .mapToDouble(p -> Math.min(p.result().tagPrAuc().mean() - p.result().tagPrAuc().std(),
                        p.result().tagRocAuc().mean() - p.result().tagRocAuc().std())).min().orElse(0.5);
        chart.getStyler().setYAxisMin(Math.max(0.0, Math.floor(Math.min(lowest, 0.5) * 10) / 10));
        chart.getStyler().setYAxisMax(1.0);
        chart.getStyler().setErrorBarsColorSeriesColor(true);
        chart.getStyler().setPlotGridLinesColor(new Color(0xe5e5e5));
        s.setChartTitleFont(s.getChartTitleFont().deriveFont(15f));
        int c = 0;
        for (Map.Entry<String, List<Point>> e : byEncoder.entrySet()) {
            Color colour = COLOURS[c++ % COLOURS.length];
            double[] x = e.getValue().stream().mapToDouble(Point::fraction).toArray();
            series(chart, e.getKey() + " PR-AUC", x, e.getValue().stream().map(p -> p.result().tagPrAuc()).toList(),
                    colour, new BasicStroke(2.2f));
            series(chart, e.getKey() + " ROC-AUC", x, e.getValue().stream().map(p -> p.result().tagRocAuc()).toList(),
                    colour, new BasicStroke(1.6f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {7f, 4f}, 0f));
        }
        BitmapEncoder.saveBitmapWithDPI(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG, 110);
    }

    private static void series(XYChart chart, String name, double[] x, List<ProbeEvaluation.Stat> stats, Color colour,
                               BasicStroke stroke) {
        double[] y = stats.stream().mapToDouble(ProbeEvaluation.Stat::mean).toArray();
        double[] err = stats.stream().mapToDouble(ProbeEvaluation.Stat::std).toArray();
        XYSeries s = chart.addSeries(name, x, y, err);
        s.setLineColor(colour);
        s.setLineStyle(stroke);
        s.setMarker(SeriesMarkers.CIRCLE);
        s.setMarkerColor(colour);
    }

    private static String markdown(Path out, List<Point> points, String dataset, EvalSettings settings) {
        StringBuilder md = new StringBuilder("# Tag-wise AUC against labelled fraction, " + dataset + "\n\n");
        md.append("Each point: ").append(settings.seeds()).append(" head(s) (").append(settings.protocol())
                .append(" probe, ").append(settings.probe().describe()).append(") trained on a class-balanced subset of"
                        + " the training tracks, tested on every test track; mean ± standard deviation over seeds (a head"
                        + " fitted by L-BFGS on every label does not depend on the seed). The paper (Spijkervet &"
                        + " Burgoyne 2021, Section 4.4) reports 33.1 tag PR-AUC at 1% of MagnaTagATune's labels for CLMR.\n\n");
        md.append("![tag-wise AUC against labelled fraction](").append(PNG).append(")\n\n");
        md.append("| encoder | fraction | training tracks | tag ROC-AUC | tag PR-AUC | clip ROC-AUC | clip PR-AUC | report |\n"
                + "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
        for (Point p : points) {
            ProbeEvaluation.Result r = p.result();
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | [%s](%s) |%n", p.encoder(),
                    plain(p.fraction()), trainTracks(r), stat(r.tagRocAuc()),
                    stat(r.tagPrAuc()), stat(r.clipRocAuc()), stat(r.clipPrAuc()), out.relativize(p.report()),
                    out.relativize(p.report()).toString().replace('\\', '/')));
        }
        return md.toString();
    }

    private static ObjectNode json(List<Point> points, String dataset, EvalSettings settings) {
        ObjectMapper m = new ObjectMapper();
        ObjectNode root = m.createObjectNode();
        root.put("dataset", dataset);
        root.put("protocol", settings.protocol());
        root.put("probe", settings.probe().describe());
        root.put("seeds", settings.seeds());
        ArrayNode rows = root.putArray("points");
        for (Point p : points) {
            ObjectNode o = rows.addObject();
            o.put("encoder", p.encoder());
            o.put("label_fraction", p.fraction());
            ArrayNode tracks = o.putArray("train_tracks");
            p.result().runs().forEach(run -> tracks.add(run.trainClips()));
            put(o, "tag_roc_auc", p.result().tagRocAuc());
            put(o, "tag_pr_auc", p.result().tagPrAuc());
            put(o, "clip_roc_auc", p.result().clipRocAuc());
            put(o, "clip_pr_auc", p.result().clipPrAuc());
            o.put("report", p.report().toString());
        }
        return root;
    }

    private static void put(ObjectNode o, String name, ProbeEvaluation.Stat s) {
        o.putObject(name).put("mean", s.mean()).put("std", s.std());
    }

    private static String stat(ProbeEvaluation.Stat s) {
        return s.std() < 5e-5 ? String.format(Locale.ROOT, "%.4f", s.mean())
                : String.format(Locale.ROOT, "%.4f ± %.4f", s.mean(), s.std());
    }
}

package org.clmr.eval.report;

import org.clmr.eval.probe.EpochRecord;
import org.clmr.eval.probe.ProbeEvaluation;
import org.clmr.eval.probe.ProbeSearch;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** The report's PNG plots, drawn with XChart (headless). */
public final class Plots {
    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0x9467bd),
        new Color(0xff7f0e), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f)};

    private Plots() {
    }

    /**
     * Per-tag test ROC-AUC, sorted from best to worst (like the paper's Figure C.3), with the standard
     * deviation over seeds as error bars when there are several. Tags where ROC-AUC is undefined are left out.
     */
    public static void perTagRocAuc(ProbeEvaluation.Result result, String title, Path png) throws IOException {
        headless();
        List<String> tags = result.runs().get(0).test().tags();
        List<ProbeEvaluation.Stat> stats = result.perTagRocAuc();
        List<Integer> shown = new ArrayList<>();
        for (int t = 0; t < tags.size(); t++) {
            if (!Double.isNaN(stats.get(t).mean())) {
                shown.add(t);
            }
        }
        shown.sort(Comparator.comparingDouble((Integer t) -> -stats.get(t).mean()).thenComparing(t -> t));
        List<String> names = new ArrayList<>();
        List<Double> values = new ArrayList<>();
        List<Double> errors = new ArrayList<>();
        for (int t : shown) {
            names.add(tags.get(t));
            values.add(stats.get(t).mean());
            errors.add(stats.get(t).std());
        }
        // wide enough for every bar and for the whole title (about 11 px per character of the bold 16 pt font)
        int width = Math.max(Math.max(800, 60 + 22 * names.size()), 40 + 11 * title.length());
        CategoryChart chart = new CategoryChartBuilder().width(width).height(520).title(title)
                .xAxisTitle("tag").yAxisTitle("ROC-AUC (test)").build();
        Styler s = chart.getStyler();
        chart.getStyler().setLegendVisible(false);
        chart.getStyler().setXAxisLabelRotation(90);
        chart.getStyler().setYAxisMin(lowerBound(values));
        chart.getStyler().setYAxisMax(1.0);
        chart.getStyler().setYAxisDecimalPattern("0.00");
        chart.getStyler().setSeriesColors(new Color[] {new Color(0x1f77b4)});
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setPlotGridVerticalLinesVisible(false);
        s.setChartTitleFont(s.getChartTitleFont().deriveFont(16f));
        if (names.isEmpty()) {
            names.add("(no tag with both classes in the test split)");
            values.add(0.5);
            errors.add(0.0);
        }
        if (result.runs().size() > 1) {
            chart.getStyler().setErrorBarsColor(Color.DARK_GRAY);
            chart.addSeries("ROC-AUC", names, values, errors);
        } else {
            chart.addSeries("ROC-AUC", names, values);
        }
        BitmapEncoder.saveBitmapWithDPI(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG, 110);
    }

    /**
     * The heads' validation curves: tag-wise PR-AUC and ROC-AUC on the validation clips per epoch, the
     * training loss on a second axis, the kept (best) epoch marked; one colour per seed. Heads fitted by
     * L-BFGS have no epochs: their plot is the validation AUCs over the weight-decay grid instead.
     */
    public static void validationCurve(ProbeEvaluation.Result result, String title, Path png) throws IOException {
        headless();
        if (result.runs().stream().allMatch(r -> r.curve().isEmpty())) {
            weightDecayCurve(result, title, png);
            return;
        }
        XYChart chart = new XYChartBuilder().width(1100).height(540).title(title)
                .xAxisTitle("epoch").yAxisTitle("validation tag-wise AUC").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setLegendLayout(Styler.LegendLayout.Vertical);
        chart.getStyler().setXAxisDecimalPattern("0");
        chart.getStyler().setXAxisTickMarkSpacingHint(90);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setYAxisDecimalPattern("0.000");
        chart.getStyler().setYAxisGroupPosition(1, Styler.YAxisPosition.Right);
        chart.setYAxisGroupTitle(1, "training BCE loss");
        for (ProbeEvaluation.Run run : result.runs()) {
            Color c = PALETTE[(int) (Math.floorMod(run.seed(), PALETTE.length))];
            double[] epochs = run.curve().stream().mapToDouble(EpochRecord::epoch).toArray();
            String seed = "seed " + run.seed();
            XYSeries pr = chart.addSeries(seed + " PR-AUC", epochs, run.curve().stream().mapToDouble(EpochRecord::validTagPrAuc).toArray());
            line(pr, c, new BasicStroke(2f));
            XYSeries roc = chart.addSeries(seed + " ROC-AUC", epochs, run.curve().stream().mapToDouble(EpochRecord::validTagRocAuc).toArray());
            line(roc, c, new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
            XYSeries loss = chart.addSeries(seed + " loss", epochs, run.curve().stream().mapToDouble(EpochRecord::trainLoss).toArray());
            line(loss, c, new BasicStroke(1.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {2f, 3f}, 0f));
            loss.setYAxisGroup(1);
            EpochRecord best = run.curve().get(run.bestEpoch() - 1);
            XYSeries kept = chart.addSeries(seed + " kept (epoch " + best.epoch() + ")", new double[] {best.epoch()},
                    new double[] {result.spec().stopOn().of(best)});
            kept.setMarker(SeriesMarkers.DIAMOND);
            kept.setMarkerColor(c);
            kept.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        }
        BitmapEncoder.saveBitmapWithDPI(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG, 110);
    }

    /** Validation tag-wise ROC-AUC and PR-AUC against log10(weight decay), the chosen point marked, one colour per seed. */
    private static void weightDecayCurve(ProbeEvaluation.Result result, String title, Path png) throws IOException {
        XYChart chart = new XYChartBuilder().width(1100).height(540).title(title)
                .xAxisTitle("log10(weight decay)").yAxisTitle("validation tag-wise AUC").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setLegendLayout(Styler.LegendLayout.Vertical);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setYAxisDecimalPattern("0.000");
        chart.getStyler().setXAxisDecimalPattern("0.0");
        List<ProbeEvaluation.Run> runs = result.fittedOnce() ? result.runs().subList(0, 1) : result.runs();
        for (ProbeEvaluation.Run run : runs) {
            Color c = PALETTE[(int) Math.floorMod(run.seed(), PALETTE.length)];
            String seed = result.fittedOnce() ? "every seed" : "seed " + run.seed();
            // a weight decay of 0 has no logarithm: it sits one decade left of the smallest positive one
            double floor = run.candidates().stream().mapToDouble(ProbeSearch.Candidate::weightDecay).filter(v -> v > 0).min().orElse(1.0);
            double[] x = run.candidates().stream().mapToDouble(k -> Math.log10(k.weightDecay() > 0 ? k.weightDecay() : floor / 10)).toArray();
            XYSeries roc = chart.addSeries(seed + " ROC-AUC", x,
                    run.candidates().stream().mapToDouble(ProbeSearch.Candidate::validTagRocAuc).toArray());
            line(roc, c, new BasicStroke(2f));
            roc.setMarker(SeriesMarkers.CIRCLE);
            XYSeries pr = chart.addSeries(seed + " PR-AUC", x,
                    run.candidates().stream().mapToDouble(ProbeSearch.Candidate::validTagPrAuc).toArray());
            line(pr, c, new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
            ProbeSearch.Candidate chosen = ProbeSection.chosen(run);
            XYSeries kept = chart.addSeries(seed + " chosen (" + org.clmr.eval.probe.ProbeSpec.plain(chosen.weightDecay()) + ")",
                    new double[] {x[run.candidates().indexOf(chosen)]}, new double[] {chosen.score(result.spec().stopOn())});
            kept.setMarker(SeriesMarkers.DIAMOND);
            kept.setMarkerColor(c);
            kept.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        }
        BitmapEncoder.saveBitmapWithDPI(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG, 110);
    }

    private static void line(XYSeries series, Color color, BasicStroke stroke) {
        series.setLineColor(color);
        series.setLineStyle(stroke);
        series.setMarker(SeriesMarkers.NONE);
    }

    private static double lowerBound(List<Double> values) {
        double min = values.stream().mapToDouble(Double::doubleValue).min().orElse(0.5);
        return Math.max(0.0, Math.floor(Math.min(min, 0.5) * 10) / 10);
    }

    private static void headless() {
        System.setProperty("java.awt.headless", "true");
    }
}

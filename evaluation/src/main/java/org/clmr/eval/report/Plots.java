package org.clmr.eval.report;

import org.clmr.eval.probe.EpochRecord;
import org.clmr.eval.probe.ProbeEvaluation;
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
     * training loss on a second axis, the kept (best) epoch marked; one colour per seed.
     */
    public static void validationCurve(ProbeEvaluation.Result result, String title, Path png) throws IOException {
        headless();
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
        Color[] palette = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0x9467bd),
            new Color(0xff7f0e), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f)};
        for (ProbeEvaluation.Run run : result.runs()) {
            Color c = palette[(int) (Math.floorMod(run.seed(), palette.length))];
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
                    new double[] {best.validTagPrAuc()});
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

package org.clmr.eval;

import org.clmr.data.dataset.PackedDataset;
import org.clmr.eval.features.SampleCnnEncoder;
import org.clmr.eval.probe.ProbeEvaluation;
import org.clmr.eval.report.DataEfficiencyReport;
import org.clmr.eval.report.ReportWriter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code clmr evaluate --label-fractions}: the paper's data-efficiency study (its Section 4.4). For each
 * encoder (the pre-trained one and a random one of the same shape) and each fraction of the training labels, the
 * probe of {@link EvaluationJob} is trained on a class-balanced subset of that fraction and tested; one report per
 * point in {@code OUT/ENCODER/fraction-F}, the features extracted once per encoder ({@code OUT/ENCODER/features}),
 * and the figure of tag-wise PR-AUC and ROC-AUC against the fraction ({@link DataEfficiencyReport}). Caller's thread.
 */
public final class LabelFractions {
    private LabelFractions() {
    }

    /**
     * Runs the study and writes its figure and page into {@code out}.
     *
     * @param encoders by name, in the order to show them
     * @param each     told every point as it is done
     * @return every point, by encoder then fraction
     */
    public static List<DataEfficiencyReport.Point> run(Map<String, SampleCnnEncoder> encoders, PackedDataset dataset, Path out,
                                  EvalSettings settings, List<Double> fractions, Consumer<DataEfficiencyReport.Point> each) throws IOException {
        List<DataEfficiencyReport.Point> points = new ArrayList<>();
        for (Map.Entry<String, SampleCnnEncoder> e : encoders.entrySet()) {
            Path dir = out.resolve(folder(e.getKey()));
            for (double f : fractions) {
                Path report = dir.resolve(String.format(Locale.ROOT, "fraction-%s", DataEfficiencyReport.plain(f)));
                EvaluationJob.Outcome o = EvaluationJob.run(e.getValue(), dataset, report,
                        settings.with(null, f, null), dir.resolve(EvaluationJob.FEATURES));
                DataEfficiencyReport.Point p = new DataEfficiencyReport.Point(e.getKey(), f, o.result(), report.resolve(ReportWriter.MARKDOWN));
                points.add(p);
                each.accept(p);
            }
        }
        DataEfficiencyReport.write(out, points, dataset.dir().getFileName().toString(), settings);
        return points;
    }

    private static String folder(String encoder) {
        return encoder.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-");
    }
}

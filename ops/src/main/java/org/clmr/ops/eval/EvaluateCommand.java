package org.clmr.ops.eval;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.clmr.data.dataset.PackedDataset;
import org.clmr.eval.EvalSettings;
import org.clmr.eval.EvaluationJob;
import org.clmr.eval.features.SampleCnnEncoder;
import org.clmr.eval.probe.ProbeEvaluation;
import org.clmr.eval.report.ReportWriter;
import org.clmr.eval.report.SummaryLines;
import org.clmr.ops.ConfigOptions;
import org.clmr.protocol.config.SettingsException;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code clmr evaluate}: linear (or MLP) evaluation of a frozen encoder on a packed dataset, with a report. The fair probe
 * (standardised features, weight decay chosen on validation) by default; {@code --protocol paper} for the paper's.
 */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = {"Linear evaluation: frozen encoder features -> linear or MLP head per seed -> tag-wise and clip-wise ROC-AUC / PR-AUC.",
                "The default (fair) probe standardises features on the training split and chooses its weight decay on the validation split;"
                        + " --protocol paper trains the paper's probe on raw features (Adam, weight decay 1e-6, early stopping on PR-AUC).",
                "Writes report.json, report.md, per-tag-roc-auc.png, validation-curve.png, the test scores and each head (head-seed-N.json)"
                        + " to --out; features are cached in --out/features and reused by a later run with the same encoder and dataset."})
public final class EvaluateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ConfigOptions options;

    @ArgGroup(exclusive = true, multiplicity = "1")
    EncoderOptions encoder;

    @Option(names = "--dataset", required = true, paramLabel = "DIR", description = "A packed dataset with train/valid/test splits (clmr prepare)")
    Path dataset;

    @Option(names = "--out", required = true, paramLabel = "REPORT_DIR", description = "Report directory (created)")
    Path out;

    @Option(names = "--head", paramLabel = "linear|mlp", description = "Head (default clmr.eval.head)")
    String head;

    @Option(names = "--label-fraction", paramLabel = "F", description = "Train heads on a class-balanced fraction F in (0, 1] of the training tracks (default clmr.eval.label-fraction)")
    Double labelFraction;

    @Option(names = "--seeds", paramLabel = "K", description = "Heads with seeds seed..seed+K-1; mean and std reported (default clmr.eval.seeds)")
    Integer seeds;

    @Option(names = "--protocol", paramLabel = "fair|paper",
            description = "Probe protocol: fair (standardised features, weight decay chosen on validation) or paper (default clmr.eval.protocol)")
    String protocol;

    @Override
    public Integer call() throws Exception {
        Config config = options.load();
        if (protocol != null) {
            if (!EvalSettings.PROTOCOLS.contains(protocol)) {
                throw new SettingsException("--protocol", protocol, "must be one of " + String.join(", ", EvalSettings.PROTOCOLS));
            }
            config = ConfigFactory.parseMap(Map.of("clmr.eval.protocol", protocol)).withFallback(config);
        }
        EvalSettings settings = EvalSettings.from(config).with(head, labelFraction, seeds);
        PrintWriter pw = spec.commandLine().getOut();
        try (PackedDataset data = PackedDataset.open(dataset);
             SampleCnnEncoder enc = encoder.open(config, data.sampleRate())) {
            pw.println("evaluating " + enc.description() + " on " + dataset + " (" + settings.probe().kind().name().toLowerCase(Locale.ROOT)
                    + " head, " + settings.seeds() + " seed(s), label fraction " + settings.labelFraction() + ")");
            pw.println(settings.protocol() + " probe: " + settings.probe().describe());
            pw.flush();
            EvaluationJob.Outcome outcome = EvaluationJob.run(enc, data, out, settings);
            ProbeEvaluation.Result r = outcome.result();
            pw.printf(Locale.ROOT, "tag_roc_auc %s  tag_pr_auc %s  clip_roc_auc %s  clip_pr_auc %s%n",
                    stat(r.tagRocAuc()), stat(r.tagPrAuc()), stat(r.clipRocAuc()), stat(r.clipPrAuc()));
            pw.println(SummaryLines.features(r.trainFeatures()) + "; weight decay chosen: " + SummaryLines.chosenWeightDecays(r));
            outcome.tooShort().forEach((split, ids) -> {
                if (!ids.isEmpty()) {
                    pw.println(ids.size() + " " + split + " track(s) shorter than one window were left out (listed in report.json)");
                }
            });
            pw.println("report: " + out.resolve(ReportWriter.MARKDOWN));
            pw.flush();
        }
        return 0;
    }

    private static String stat(ProbeEvaluation.Stat s) {
        return s.std() == 0 ? String.format(Locale.ROOT, "%.4f", s.mean()) : String.format(Locale.ROOT, "%.4f±%.4f", s.mean(), s.std());
    }
}

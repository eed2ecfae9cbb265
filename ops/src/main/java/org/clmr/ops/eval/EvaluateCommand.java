package org.clmr.ops.eval;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.clmr.data.dataset.PackedDataset;
import org.clmr.eval.EvalSettings;
import org.clmr.eval.EvaluationJob;
import org.clmr.eval.LabelFractions;
import org.clmr.eval.features.SampleCnnEncoder;
import org.clmr.eval.probe.ProbeEvaluation;
import org.clmr.eval.report.DataEfficiencyReport;
import org.clmr.eval.report.ReportWriter;
import org.clmr.eval.report.SummaryLines;
import org.clmr.ops.ConfigOptions;
import org.clmr.protocol.config.SettingsException;
import org.clmr.protocol.run.RunSpec;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
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

    @Option(names = "--label-fractions", split = ",", paramLabel = "F,F...",
            description = "The data-efficiency study: the probe per fraction (e.g. 0.01,0.1,1) for this encoder and, given"
                    + " --checkpoint, a random one of the same shape; writes label-fractions.png/.md/.json and a report per"
                    + " point in OUT/ENCODER/fraction-F")
    List<Double> labelFractions;

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
        if (labelFractions != null) {
            return fractions(config);
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

    /** {@code --label-fractions}: the probe per fraction for the encoder and, given a checkpoint, a random one. */
    private int fractions(Config config) throws Exception {
        if (labelFraction != null) {
            throw new SettingsException("--label-fractions", labelFractions, "takes the place of --label-fraction: give one");
        }
        List<Double> fractions = labelFractions.stream().distinct().sorted().toList();
        if (fractions.stream().anyMatch(f -> !(f > 0 && f <= 1))) {
            throw new SettingsException("--label-fractions", labelFractions, "every fraction must be in (0, 1], e.g. 0.01,0.1,1");
        }
        EvalSettings settings = EvalSettings.from(config).with(head, null, seeds);
        PrintWriter pw = spec.commandLine().getOut();
        try (PackedDataset data = PackedDataset.open(dataset);
             SampleCnnEncoder enc = encoder.open(config, data.sampleRate());
             SampleCnnEncoder random = encoder.checkpoint == null ? null
                     : SampleCnnEncoder.random(enc.spec(), enc.sampleRate(), RunSpec.from(config).seed())) {
            Map<String, SampleCnnEncoder> encoders = new LinkedHashMap<>();
            encoders.put(random == null ? "random" : "pre-trained", enc);
            if (random != null) {
                encoders.put("random", random);
            }
            pw.println("label fractions " + fractions + " for " + String.join(" and ", encoders.keySet()) + " ("
                    + settings.protocol() + " probe: " + settings.probe().describe() + ", " + settings.seeds() + " seed(s))");
            pw.flush();
            LabelFractions.run(encoders, data, out, settings, fractions, p -> {
                pw.printf(Locale.ROOT, "%-12s fraction %-6s tag_roc_auc %s  tag_pr_auc %s  (%s training tracks)%n",
                        p.encoder(), DataEfficiencyReport.plain(p.fraction()), stat(p.result().tagRocAuc()),
                        stat(p.result().tagPrAuc()), DataEfficiencyReport.trainTracks(p.result()));
                pw.flush();
            });
            pw.println("figure: " + out.resolve(DataEfficiencyReport.PNG) + "; table: " + out.resolve(DataEfficiencyReport.MARKDOWN));
        }
        pw.flush();
        return 0;
    }

    /** Mean ± standard deviation over seeds; the mean alone when they agree to the digits shown. */
    private static String stat(ProbeEvaluation.Stat s) {
        return s.std() < 5e-5 ? String.format(Locale.ROOT, "%.4f", s.mean()) : String.format(Locale.ROOT, "%.4f±%.4f", s.mean(), s.std());
    }
}

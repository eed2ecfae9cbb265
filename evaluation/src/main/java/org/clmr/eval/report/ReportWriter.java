package org.clmr.eval.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.clmr.eval.metrics.TaggingMetrics;
import org.clmr.eval.probe.EpochRecord;
import org.clmr.eval.probe.ProbeEvaluation;
import org.clmr.eval.probe.ProbeHeadFile;
import org.clmr.eval.probe.ProbeSearch;
import org.clmr.eval.probe.ProbeSpec;
import org.clmr.protocol.BuildInfo;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes a linear evaluation's report into a directory: {@code report.json} (every number: summary,
 * per-tag, per-run per-tag and per-clip metrics, exclusions, the weight-decay grid and its validation scores,
 * validation curves, the features' constant dimensions, config), {@code report.md} (a Table 1 style row,
 * the probe and what it chose, per-run rows, the per-tag table), {@code per-tag-roc-auc.png},
 * {@code validation-curve.png}, each run's head ({@code head-seed-N.json}, {@link ProbeHeadFile}), and the
 * test labels and each run's test scores as CSVs that {@code clmr metrics} re-scores to the same numbers.
 */
public final class ReportWriter {
    /** File names inside the report directory. */
    public static final String JSON = "report.json";
    public static final String MARKDOWN = "report.md";
    public static final String TAG_PLOT = "per-tag-roc-auc.png";
    public static final String CURVE_PLOT = "validation-curve.png";
    public static final String TEST_LABELS = "test-labels.csv";

    private ReportWriter() {
    }

    /** Writes every file; returns the paths written. */
    public static List<Path> write(Path dir, ProbeEvaluation.Result result, ReportContext context, boolean[][] testLabels) throws IOException {
        Files.createDirectories(dir);
        List<Path> written = new ArrayList<>();
        TaggingMetrics first = result.runs().get(0).test();
        written.add(writeCsv(dir.resolve(TEST_LABELS), first.tags(), first.clipIds(), toDoubles(testLabels), true));
        for (ProbeEvaluation.Run run : result.runs()) {
            written.add(writeCsv(dir.resolve(predictionsFile(run)), first.tags(), first.clipIds(), run.testScores(), false));
            Path head = dir.resolve(headFile(run));
            ProbeHeadFile.write(head, run.head(), first.tags(), String.valueOf(context.config().getOrDefault("encoder_identity",
                    context.encoder())), run.weightDecay());
            written.add(head);
        }
        Path json = dir.resolve(JSON);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), json(result, context));
        written.add(json);
        String head = result.spec().kind().name().toLowerCase(Locale.ROOT);
        Plots.perTagRocAuc(result, "Per-tag ROC-AUC, " + head + " head, " + context.encoder(), dir.resolve(TAG_PLOT));
        written.add(dir.resolve(TAG_PLOT));
        Plots.validationCurve(result, "Validation curve, " + head + " head", dir.resolve(CURVE_PLOT));
        written.add(dir.resolve(CURVE_PLOT));
        Path md = dir.resolve(MARKDOWN);
        Files.writeString(md, markdown(result, context), StandardCharsets.UTF_8);
        written.add(md);
        return written;
    }

    static String predictionsFile(ProbeEvaluation.Run run) {
        return "test-scores-seed-" + run.seed() + ".csv";
    }

    /** The file of a run's head inside the report directory. */
    public static String headFile(ProbeEvaluation.Run run) {
        return "head-seed-" + run.seed() + ".json";
    }

    static ObjectNode json(ProbeEvaluation.Result result, ReportContext context) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("clmr_version", BuildInfo.version());
        root.put("created", Instant.now().toString());
        root.put("encoder", context.encoder());
        root.put("dataset", context.dataset());
        ObjectNode config = root.putObject("config");
        ProbeSpec spec = result.spec();
        config.put("head", spec.kind().name().toLowerCase(Locale.ROOT));
        if (spec.kind() == org.clmr.eval.probe.ProbeHead.Kind.MLP) {
            config.put("hidden", spec.hidden());
        }
        config.put("probe", spec.describe());
        ProbeSection.config(config, spec, mapper);
        config.put("label_fraction", result.labelFraction());
        config.put("seeds", result.runs().size());
        if (result.fittedOnce()) {
            config.put("seeds_note", "the L-BFGS head does not depend on the seed: at label fraction 1 it was fitted once and every run holds it");
        }
        for (Map.Entry<String, Object> e : context.config().entrySet()) {
            config.set(e.getKey(), mapper.valueToTree(e.getValue()));
        }
        ProbeSection.features(root.putObject("features"), result.trainFeatures(), mapper);
        ObjectNode summary = root.putObject("summary");
        stat(summary.putObject("tag_roc_auc"), result.tagRocAuc());
        stat(summary.putObject("tag_pr_auc"), result.tagPrAuc());
        stat(summary.putObject("clip_roc_auc"), result.clipRocAuc());
        stat(summary.putObject("clip_pr_auc"), result.clipPrAuc());
        summary.put("std", "sample standard deviation over seeds (n - 1); 0 for one seed");
        TaggingMetrics first = result.runs().get(0).test();
        ArrayNode perTag = root.putArray("per_tag");
        List<ProbeEvaluation.Stat> roc = result.perTagRocAuc();
        List<ProbeEvaluation.Stat> pr = result.perTagPrAuc();
        for (int t = 0; t < first.tags().size(); t++) {
            ObjectNode o = perTag.addObject();
            o.put("tag", first.tags().get(t));
            o.put("test_positives", first.tagPositives()[t]);
            number(o, "roc_auc_mean", roc.get(t).mean());
            number(o, "roc_auc_std", roc.get(t).std());
            number(o, "pr_auc_mean", pr.get(t).mean());
            number(o, "pr_auc_std", pr.get(t).std());
        }
        ArrayNode runs = root.putArray("runs");
        for (ProbeEvaluation.Run run : result.runs()) {
            runs.add(runJson(mapper, run));
        }
        return root;
    }

    private static ObjectNode runJson(ObjectMapper mapper, ProbeEvaluation.Run run) {
        ObjectNode o = mapper.createObjectNode();
        TaggingMetrics m = run.test();
        o.put("seed", run.seed());
        o.put("train_clips", run.trainClips());
        o.put("train_windows", run.trainWindows());
        o.put("weight_decay", run.weightDecay());
        o.put("chosen_at_grid_edge", run.gridEdge() == 0 ? "no" : run.gridEdge() < 0 ? "smallest" : "largest");
        if (!run.curve().isEmpty()) {
            o.put("best_epoch", run.bestEpoch());
            o.put("epochs_run", run.curve().size());
        }
        o.put("head", headFile(run));
        o.set("one_class_training_tags", mapper.valueToTree(run.oneClassTags()));
        ArrayNode grid = o.putArray("weight_decay_grid");
        for (ProbeSearch.Candidate c : run.candidates()) {
            grid.add(ProbeSection.candidate(mapper, c, c.weightDecay() == run.weightDecay()));
        }
        number(o, "tag_roc_auc", m.tagRocAucMean());
        number(o, "tag_pr_auc", m.tagPrAucMean());
        number(o, "clip_roc_auc", m.clipRocAucMean());
        number(o, "clip_pr_auc", m.clipPrAucMean());
        o.put("test_scores", predictionsFile(run));
        ObjectNode excluded = o.putObject("excluded");
        excluded.put("why", "ROC-AUC needs both classes; average precision needs a positive");
        excluded.set("tags_roc_auc", mapper.valueToTree(m.excludedTagsRoc()));
        excluded.set("tags_pr_auc", mapper.valueToTree(m.excludedTagsPr()));
        excluded.set("clips_roc_auc", mapper.valueToTree(m.excludedClipsRoc()));
        excluded.set("clips_pr_auc", mapper.valueToTree(m.excludedClipsPr()));
        ArrayNode perTag = o.putArray("per_tag");
        for (int t = 0; t < m.tags().size(); t++) {
            ObjectNode p = perTag.addObject();
            p.put("tag", m.tags().get(t));
            number(p, "roc_auc", m.tagRocAuc()[t]);
            number(p, "pr_auc", m.tagPrAuc()[t]);
        }
        ArrayNode perClip = o.putArray("per_clip");
        for (int c = 0; c < m.clipIds().size(); c++) {
            ObjectNode p = perClip.addObject();
            p.put("clip", m.clipIds().get(c));
            number(p, "roc_auc", m.clipRocAuc()[c]);
            number(p, "pr_auc", m.clipPrAuc()[c]);
        }
        ArrayNode curve = o.putArray("validation_curve");
        for (EpochRecord r : run.curve()) {
            ObjectNode p = curve.addObject();
            p.put("epoch", r.epoch());
            number(p, "train_loss", r.trainLoss());
            number(p, "valid_tag_roc_auc", r.validTagRocAuc());
            number(p, "valid_tag_pr_auc", r.validTagPrAuc());
        }
        return o;
    }

    static String markdown(ProbeEvaluation.Result result, ReportContext context) {
        StringBuilder md = new StringBuilder();
        ProbeSpec spec = result.spec();
        String head = spec.kind().name().toLowerCase(Locale.ROOT) + (spec.kind() == org.clmr.eval.probe.ProbeHead.Kind.MLP ? " (" + spec.hidden() + " hidden)" : "");
        int seeds = result.runs().size();
        md.append("# Linear evaluation\n\n");
        md.append("- encoder: ").append(context.encoder()).append('\n');
        md.append("- dataset: ").append(context.dataset()).append('\n');
        md.append("- head: ").append(head).append('\n');
        md.append(ProbeSection.header(result));
        md.append("- label fraction: ").append(result.labelFraction()).append("; seeds: ").append(seeds)
                .append(seeds > 1 ? " (mean ± sample std)" : "").append("\n\n");
        md.append("| encoder | head | labels | ROC-AUC (tag) | PR-AUC (tag) | ROC-AUC (clip) | PR-AUC (clip) |\n");
        md.append("| --- | --- | --- | --- | --- | --- | --- |\n");
        md.append("| ").append(context.encoder()).append(" | ").append(head).append(" | ")
                .append(percent(result.labelFraction())).append(" | ")
                .append(stat(result.tagRocAuc())).append(" | ").append(stat(result.tagPrAuc())).append(" | ")
                .append(stat(result.clipRocAuc())).append(" | ").append(stat(result.clipPrAuc())).append(" |\n\n");
        md.append("## Runs\n\n| seed | train clips | weight decay | fit | ROC-AUC (tag) | PR-AUC (tag) | ROC-AUC (clip) | PR-AUC (clip) | excluded |\n");
        md.append("| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |\n");
        for (ProbeEvaluation.Run run : result.runs()) {
            TaggingMetrics m = run.test();
            md.append(String.format(Locale.ROOT, "| %d | %d | %s | %s | %s | %s | %s | %s | %s |%n", run.seed(), run.trainClips(),
                    ProbeSpec.plain(run.weightDecay()), ProbeSection.fit(ProbeSection.chosen(run)), num(m.tagRocAucMean()),
                    num(m.tagPrAucMean()), num(m.clipRocAucMean()), num(m.clipPrAucMean()), exclusions(m)));
        }
        if (result.fittedOnce()) {
            md.append("\nThe L-BFGS head does not depend on the seed: at label fraction 1 it was fitted once and every run holds it.\n");
        }
        md.append('\n').append(ProbeSection.grid(result));
        md.append("![per-tag ROC-AUC](").append(TAG_PLOT).append(")\n\n![validation curve](").append(CURVE_PLOT).append(")\n\n");
        md.append("## Per tag (test split, sorted by ROC-AUC)\n\n| tag | test positives | ROC-AUC | PR-AUC |\n| --- | ---: | ---: | ---: |\n");
        TaggingMetrics first = result.runs().get(0).test();
        List<ProbeEvaluation.Stat> roc = result.perTagRocAuc();
        List<ProbeEvaluation.Stat> pr = result.perTagPrAuc();
        List<Integer> order = new ArrayList<>();
        for (int t = 0; t < first.tags().size(); t++) {
            order.add(t);
        }
        order.sort(Comparator.comparingDouble((Integer t) -> Double.isNaN(roc.get(t).mean()) ? 2.0 : -roc.get(t).mean()).thenComparing(t -> t));
        for (int t : order) {
            md.append("| ").append(first.tags().get(t).replace("|", "\\|")).append(" | ").append(first.tagPositives()[t])
                    .append(" | ").append(stat(roc.get(t))).append(" | ").append(stat(pr.get(t))).append(" |\n");
        }
        md.append("\nUndefined values (ROC-AUC of a tag or clip with one class only; PR-AUC without a positive) are left out of the means;"
                + " report.json lists them. Test scores per seed are in test-scores-seed-*.csv; `clmr metrics --labels "
                + TEST_LABELS + " --scores test-scores-seed-N.csv` reproduces a run's numbers. Each run's head, with the feature"
                + " scaling it reads through, is in head-seed-N.json.\n");
        return md.toString();
    }

    private static String exclusions(TaggingMetrics m) {
        List<String> parts = new ArrayList<>();
        if (!m.excludedTagsRoc().isEmpty()) {
            parts.add(m.excludedTagsRoc().size() + " tags (ROC)");
        }
        if (!m.excludedTagsPr().isEmpty()) {
            parts.add(m.excludedTagsPr().size() + " tags (PR)");
        }
        if (!m.excludedClipsRoc().isEmpty()) {
            parts.add(m.excludedClipsRoc().size() + " clips (ROC)");
        }
        if (!m.excludedClipsPr().isEmpty()) {
            parts.add(m.excludedClipsPr().size() + " clips (PR)");
        }
        return parts.isEmpty() ? "none" : String.join(", ", parts);
    }

    private static String percent(double fraction) {
        return String.format(Locale.ROOT, "%s%%", new java.math.BigDecimal(fraction * 100).round(new java.math.MathContext(4)).stripTrailingZeros().toPlainString());
    }

    private static String stat(ProbeEvaluation.Stat s) {
        if (Double.isNaN(s.mean())) {
            return "undefined";
        }
        return s.std() == 0 ? num(s.mean()) : num(s.mean()) + " ± " + num(s.std());
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "undefined" : String.format(Locale.ROOT, "%.4f", v);
    }

    private static void stat(ObjectNode o, ProbeEvaluation.Stat s) {
        number(o, "mean", s.mean());
        number(o, "std", s.std());
    }

    private static void number(ObjectNode o, String key, double v) {
        if (Double.isNaN(v)) {
            o.putNull(key);
        } else {
            o.put(key, v);
        }
    }

    private static double[][] toDoubles(boolean[][] labels) {
        double[][] out = new double[labels.length][];
        for (int i = 0; i < labels.length; i++) {
            out[i] = new double[labels[i].length];
            for (int j = 0; j < labels[i].length; j++) {
                out[i][j] = labels[i][j] ? 1 : 0;
            }
        }
        return out;
    }

    /** Writes a clip table CSV (header {@code clip_id,tag...}); labels as 0/1, scores with full precision. */
    static Path writeCsv(Path file, List<String> tags, List<String> ids, double[][] values, boolean labels) throws IOException {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            w.write("clip_id");
            for (String t : tags) {
                w.write(',');
                w.write(csv(t));
            }
            w.write('\n');
            for (int i = 0; i < ids.size(); i++) {
                w.write(csv(ids.get(i)));
                for (double v : values[i]) {
                    w.write(',');
                    w.write(labels ? (v == 1 ? "1" : "0") : Double.toString(v));
                }
                w.write('\n');
            }
        }
        return file;
    }

    private static String csv(String s) {
        return s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }
}

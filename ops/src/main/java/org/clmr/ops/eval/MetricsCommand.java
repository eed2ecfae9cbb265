package org.clmr.ops.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.clmr.eval.metrics.ClipTable;
import org.clmr.eval.metrics.TaggingMetrics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code clmr metrics}: scores any multi-label predictions with the project's one metric implementation. */
@Command(name = "metrics", mixinStandardHelpOptions = true,
        description = {"Tag-wise and clip-wise ROC-AUC and PR-AUC (average precision), as scikit-learn defines them.",
                "Both CSVs: a header `clip_id,tag1,tag2,...`, then one row per clip; rows and columns may come in any order.",
                "Undefined values (one class only; no positive) are left out of the means and counted."})
public final class MetricsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--labels", required = true, paramLabel = "L.csv", description = "0/1 ground truth per clip and tag")
    Path labels;

    @Option(names = "--scores", required = true, paramLabel = "S.csv", description = "predicted scores per clip and tag (higher = more likely)")
    Path scores;

    @Option(names = "--json", description = "print one JSON object: tag_roc_auc, tag_pr_auc, clip_roc_auc, clip_pr_auc and the exclusion counts")
    boolean json;

    @Override
    public Integer call() throws Exception {
        ClipTable truth = ClipTable.read(labels);
        ClipTable predicted = ClipTable.read(scores);
        double[][] aligned = predicted.alignedTo(truth);
        TaggingMetrics m = TaggingMetrics.compute(truth.asLabels(), aligned, truth.tags(), truth.ids());
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectMapper mapper = new ObjectMapper();
            ObjectNode o = mapper.createObjectNode();
            put(o, "tag_roc_auc", m.tagRocAucMean());
            put(o, "tag_pr_auc", m.tagPrAucMean());
            put(o, "clip_roc_auc", m.clipRocAucMean());
            put(o, "clip_pr_auc", m.clipPrAucMean());
            o.put("clips", truth.ids().size());
            o.put("tags", truth.tags().size());
            o.put("excluded_tags_roc_auc", m.excludedTagsRoc().size());
            o.put("excluded_tags_pr_auc", m.excludedTagsPr().size());
            o.put("excluded_clips_roc_auc", m.excludedClipsRoc().size());
            o.put("excluded_clips_pr_auc", m.excludedClipsPr().size());
            out.println(mapper.writeValueAsString(o));
        } else {
            out.printf(Locale.ROOT, "%d clips, %d tags%n", truth.ids().size(), truth.tags().size());
            out.printf(Locale.ROOT, "%-13s %8s  %s%n", "metric", "value", "excluded (undefined)");
            row(out, "tag_roc_auc", m.tagRocAucMean(), m.excludedTagsRoc(), "tags");
            row(out, "tag_pr_auc", m.tagPrAucMean(), m.excludedTagsPr(), "tags");
            row(out, "clip_roc_auc", m.clipRocAucMean(), m.excludedClipsRoc(), "clips");
            row(out, "clip_pr_auc", m.clipPrAucMean(), m.excludedClipsPr(), "clips");
        }
        out.flush();
        return 0;
    }

    private static void put(ObjectNode o, String key, double v) {
        if (Double.isNaN(v)) {
            o.putNull(key);
        } else {
            o.put(key, v);
        }
    }

    private static void row(PrintWriter out, String name, double v, List<String> excluded, String what) {
        String shown = excluded.isEmpty() ? "0"
                : excluded.size() + " " + what + " (" + String.join(", ", excluded.subList(0, Math.min(5, excluded.size())))
                + (excluded.size() > 5 ? ", ..." : "") + ")";
        out.printf(Locale.ROOT, "%-13s %8s  %s%n", name, Double.isNaN(v) ? "undef" : String.format(Locale.ROOT, "%.4f", v), shown);
    }
}

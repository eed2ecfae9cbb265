package org.clmr.eval.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.clmr.eval.features.FeatureStats;
import org.clmr.eval.probe.LinearProbeSolver;
import org.clmr.eval.probe.ProbeEvaluation;
import org.clmr.eval.probe.ProbeSearch;
import org.clmr.eval.probe.ProbeSpec;

import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The parts of a report that say how fair the probe was: its protocol (scaling, solver, weight-decay grid,
 * selection rule), what each seed chose and the validation score of every grid point, and how the encoder's
 * features look (constant dimensions, the spread of scales). JSON and Markdown. Stateless.
 */
final class ProbeSection {
    private ProbeSection() {
    }

    /** The probe's settings into report.json's {@code config}. */
    static void config(ObjectNode config, ProbeSpec spec, ObjectMapper mapper) {
        config.put("standardise", spec.standardise());
        config.put("standardisation", spec.standardise()
                ? "per dimension (h - mean) / std (population) over the training windows the head sees; dimensions constant there read 0;"
                + " stored with the head (head-seed-N.json) and applied to every split"
                : "none: the head reads the raw features (the paper's protocol)");
        config.set("weight_decay_grid", mapper.valueToTree(spec.weightDecays()));
        config.put("weight_decay_mode", "L2 as torch.optim.Adam weight_decay on the mean BCE over windows and tags"
                + (spec.usesLbfgs() ? "; L-BFGS minimises the same objective per tag, bias not penalised"
                + " (scikit-learn C = 1 / (weight_decay * tags * training windows))" : " (added to the gradient, not decoupled)"));
        config.put("selection", "per seed, the weight decay whose head scores the highest validation " + spec.stopOn().description()
                + " (clips, windows averaged); ties go to the larger weight decay");
        if (spec.usesLbfgs()) {
            config.put("solver", "L-BFGS (memory 10, Armijo backtracking), one logistic regression per tag, to a gradient of at most "
                    + LinearProbeSolver.GRADIENT_TOLERANCE + " or " + spec.maxIterations()
                    + " iterations; warm-started along the grid from the largest weight decay");
            config.put("max_iterations", spec.maxIterations());
        } else {
            config.put("optimizer", "Adam (torch.optim.Adam semantics), betas 0.9/0.999, eps 1e-8");
            config.put("learning_rate", spec.learningRate());
            config.put("batch_size", spec.batchSize());
            config.put("max_epochs", spec.maxEpochs());
            config.put("early_stopping", "validation " + spec.stopOn().description() + ", patience " + spec.patience()
                    + ", best epoch's head kept");
        }
    }

    /** The training features' shape into report.json's {@code features}. */
    static void features(ObjectNode o, FeatureStats stats, ObjectMapper mapper) {
        o.put("dim", stats.dim());
        o.put("computed_on", "every window of the training split (" + stats.windows() + ")");
        ObjectNode constant = o.putObject("constant_dimensions");
        List<Integer> dims = stats.constantDims();
        constant.put("count", dims.size());
        constant.put("share", stats.constantShare());
        constant.set("indices", mapper.valueToTree(dims));
        constant.put("meaning", "the dimension takes one value on every training window (a dead unit); it carries nothing a probe can use");
        double[] range = stats.stdRange();
        ObjectNode std = o.putObject("std_of_other_dimensions");
        number(std, "min", range[0]);
        number(std, "max", range[1]);
    }

    /** One grid point of a run into report.json. */
    static ObjectNode candidate(ObjectMapper mapper, ProbeSearch.Candidate c, boolean chosen) {
        ObjectNode o = mapper.createObjectNode();
        o.put("weight_decay", c.weightDecay());
        number(o, "valid_tag_roc_auc", c.validTagRocAuc());
        number(o, "valid_tag_pr_auc", c.validTagPrAuc());
        if (c.epochs() > 0) {
            o.put("best_epoch", c.bestEpoch());
            o.put("epochs_run", c.epochs());
        } else {
            o.put("lbfgs_iterations", c.iterations());
            o.put("tags_not_converged", c.unconvergedTags());
        }
        o.put("chosen", chosen);
        return o;
    }

    /** Markdown lines under the title: the probe and the features. */
    static String header(ProbeEvaluation.Result result) {
        ProbeSpec spec = result.spec();
        FeatureStats f = result.trainFeatures();
        double[] range = f.stdRange();
        String scales = Double.isNaN(range[0]) ? "" : String.format(Locale.ROOT, "; the other dimensions' standard deviations %s to %s",
                sig(range[0]), sig(range[1]));
        return "- probe: " + spec.describe() + "\n"
                + String.format(Locale.ROOT, "- features: %d dimensions, %d constant on the training split (%.1f%%)%s%n",
                f.dim(), f.constantDims().size(), 100 * f.constantShare(), scales);
    }

    /** The Markdown table of the grid: one row per weight decay and seed. */
    static String grid(ProbeEvaluation.Result result) {
        StringBuilder md = new StringBuilder("## Weight decay, chosen on the validation split\n\n");
        md.append("| seed | weight decay | valid ROC-AUC (tag) | valid PR-AUC (tag) | fit | chosen |\n");
        md.append("| ---: | ---: | ---: | ---: | --- | :---: |\n");
        List<ProbeEvaluation.Run> runs = result.fittedOnce() ? result.runs().subList(0, 1) : result.runs();
        for (ProbeEvaluation.Run run : runs) {
            for (ProbeSearch.Candidate c : run.candidates()) {
                md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s |%n",
                        result.fittedOnce() ? "all" : String.valueOf(run.seed()), ProbeSpec.plain(c.weightDecay()),
                        num(c.validTagRocAuc()), num(c.validTagPrAuc()), fit(c), c.weightDecay() == run.weightDecay() ? "✓" : ""));
            }
        }
        if (runs.stream().anyMatch(r -> r.gridEdge() == 1)) {
            md.append("\nThe largest weight decay of the grid was chosen: a larger one might score better on validation;"
                    + " extend the grid (clmr.eval.fair.weight-decay) to see.\n");
        }
        if (runs.stream().anyMatch(r -> r.gridEdge() == -1)) {
            md.append("\nThe smallest weight decay of the grid was chosen: the probe wanted (almost) no regularisation.\n");
        }
        List<String> oneClass = result.runs().get(0).oneClassTags();
        if (!oneClass.isEmpty()) {
            md.append("\nTags with one class only among the training clips (no probe can learn them): ")
                    .append(oneClass.stream().map(t -> t.replace("|", "\\|")).collect(Collectors.joining(", "))).append(".\n");
        }
        return md.append('\n').toString();
    }

    /** How a run's kept head was fitted, for the runs table. */
    static String fit(ProbeSearch.Candidate c) {
        if (c.epochs() > 0) {
            return "epoch " + c.bestEpoch() + " of " + c.epochs();
        }
        return "L-BFGS, " + c.iterations() + " iterations" + (c.unconvergedTags() > 0 ? ", " + c.unconvergedTags() + " tags not converged" : "");
    }

    /** The chosen candidate of a run. */
    static ProbeSearch.Candidate chosen(ProbeEvaluation.Run run) {
        return run.candidates().stream().filter(c -> c.weightDecay() == run.weightDecay()).findFirst().orElseThrow();
    }

    private static String sig(double v) {
        return new java.math.BigDecimal(v).round(new java.math.MathContext(3)).stripTrailingZeros().toString().replace('E', 'e');
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "undefined" : String.format(Locale.ROOT, "%.4f", v);
    }

    private static void number(ObjectNode o, String key, double v) {
        if (Double.isNaN(v)) {
            o.putNull(key);
        } else {
            o.put(key, v);
        }
    }
}

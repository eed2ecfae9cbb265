package org.clmr.eval.probe;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * How probe heads are trained and chosen (from {@code clmr.eval}; see evaluation's reference.conf). For each
 * weight decay of the grid one head is trained on the (optionally standardised) training windows; the head
 * whose validation {@code stopOn} metric is highest is kept (ties: the larger weight decay).
 *
 * @param kind          linear or MLP
 * @param hidden        width of the MLP's hidden layer
 * @param standardise   scale features by the training windows' mean and standard deviation (stored with the head)
 * @param weightDecays  the grid, ascending, distinct, at least one value; L2 as torch.optim.Adam's weight_decay on the
 *                      mean BCE over windows and tags
 * @param linearSolver  how a linear head is fitted: L-BFGS to convergence, or Adam with early stopping (the MLP always uses Adam)
 * @param maxIterations L-BFGS's iteration limit per tag
 * @param learningRate  Adam's learning rate
 * @param batchSize     Adam's windows per minibatch (the last one of an epoch may be smaller)
 * @param maxEpochs     Adam's upper bound on epochs
 * @param patience      Adam stops when the validation {@code stopOn} metric has not improved for this many epochs
 * @param stopOn        the validation metric for early stopping and for choosing the weight decay
 */
public record ProbeSpec(ProbeHead.Kind kind, int hidden, boolean standardise, List<Double> weightDecays, LinearSolver linearSolver,
                        int maxIterations, double learningRate, int batchSize, int maxEpochs, int patience, StopMetric stopOn) {

    /** How a linear head is fitted. */
    public enum LinearSolver {
        /** Full-batch L-BFGS to the regularised optimum (the answer does not depend on a seed). */
        LBFGS,
        /** Minibatch Adam with early stopping, as the MLP. */
        ADAM;

        /** Parses {@code lbfgs} or {@code adam}. */
        public static LinearSolver parse(String s) {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        }
    }

    public ProbeSpec {
        weightDecays = List.copyOf(weightDecays);
        if (hidden < 1 || batchSize < 1 || maxEpochs < 1 || patience < 1 || maxIterations < 1 || !(learningRate > 0)
                || weightDecays.isEmpty()) {
            throw new IllegalArgumentException("invalid probe spec " + kind + " hidden=" + hidden + " lr=" + learningRate
                    + " weight decays=" + weightDecays + " batch=" + batchSize + " epochs=" + maxEpochs + " patience=" + patience
                    + " iterations=" + maxIterations);
        }
        for (int i = 0; i < weightDecays.size(); i++) {
            double wd = weightDecays.get(i);
            if (!(wd >= 0) || Double.isInfinite(wd) || (i > 0 && !(wd > weightDecays.get(i - 1)))) {
                throw new IllegalArgumentException("weight decays must be finite, >= 0, ascending and distinct: " + weightDecays);
            }
        }
    }

    /**
     * One Adam-trained head on raw features with one weight decay and early stopping on validation tag-wise
     * PR-AUC: the paper's protocol, with these values.
     */
    public static ProbeSpec paperProtocol(ProbeHead.Kind kind, int hidden, double learningRate, double weightDecay, int batchSize,
                                          int maxEpochs, int patience) {
        return new ProbeSpec(kind, hidden, false, List.of(weightDecay), LinearSolver.ADAM, 1000, learningRate, batchSize,
                maxEpochs, patience, StopMetric.TAG_PR_AUC);
    }

    /** The same spec with another head kind. */
    public ProbeSpec withKind(ProbeHead.Kind k) {
        return new ProbeSpec(k, hidden, standardise, weightDecays, linearSolver, maxIterations, learningRate, batchSize, maxEpochs,
                patience, stopOn);
    }

    /** The same spec with another grid. */
    public ProbeSpec withWeightDecays(List<Double> grid) {
        List<Double> sorted = new ArrayList<>(grid);
        sorted.sort(Double::compare);
        return new ProbeSpec(kind, hidden, standardise, sorted, linearSolver, maxIterations, learningRate, batchSize, maxEpochs,
                patience, stopOn);
    }

    /**
     * The weight decay of a spec that searches none (a grid of one value, as the paper's protocol).
     *
     * @throws IllegalStateException when the grid has several values
     */
    public double weightDecay() {
        if (weightDecays.size() != 1) {
            throw new IllegalStateException("this probe chooses its weight decay from " + weightDecays + " on the validation split");
        }
        return weightDecays.get(0);
    }

    /** Whether heads are fitted by L-BFGS (a linear head with that solver) rather than Adam. */
    public boolean usesLbfgs() {
        return kind == ProbeHead.Kind.LINEAR && linearSolver == LinearSolver.LBFGS;
    }

    /** One line for reports and the console, e.g. {@code standardised features, L-BFGS, weight decay from [1e-06, ...] ...}. */
    public String describe() {
        StringBuilder s = new StringBuilder(standardise ? "features standardised on the training split" : "raw (unstandardised) features");
        if (usesLbfgs()) {
            s.append(", L-BFGS to convergence (at most ").append(maxIterations).append(" iterations per tag)");
        } else {
            s.append(", Adam lr ").append(plain(learningRate)).append(" batch ").append(batchSize).append(", early stopping on validation ")
                    .append(stopOn.description()).append(" (patience ").append(patience).append(", at most ").append(maxEpochs).append(" epochs)");
        }
        if (weightDecays.size() == 1) {
            s.append(", weight decay ").append(plain(weightDecays.get(0)));
        } else {
            s.append(", weight decay chosen on validation ").append(stopOn.description()).append(" from ")
                    .append(weightDecays.stream().map(ProbeSpec::plain).collect(Collectors.joining(", ", "[", "]")));
        }
        return s.toString();
    }

    /** A number without trailing zeros or exponent noise, e.g. {@code 0.0003}, {@code 1e-06}. */
    public static String plain(double v) {
        java.math.BigDecimal d = java.math.BigDecimal.valueOf(v).stripTrailingZeros();
        if (v == 0 || Math.abs(v) >= 1e-3) {
            return d.toPlainString();
        }
        int exponent = d.precision() - d.scale() - 1;
        return d.movePointRight(-exponent).toPlainString() + "e" + exponent;
    }
}

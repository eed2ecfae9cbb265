package org.clmr.eval.probe;

import org.clmr.eval.features.FeatureSet;

import java.util.stream.IntStream;

/**
 * Fits the linear head to convergence: per tag an L2-regularised logistic regression over the training
 * windows (each carrying its clip's labels), minimised by {@link Lbfgs} on the scaled features,
 * as scikit-learn's {@code LogisticRegression(solver="lbfgs")} does. Per tag {@code t}:
 * <pre>
 *   J_t(w, b) = mean over windows of BCE(sigmoid(x' w + b), y_t) + (lambda / 2) |w|^2,   lambda = weightDecay * tags
 * </pre>
 * which is, tag by tag, the objective that Adam with {@code weight_decay} minimises on the head's mean BCE
 * over windows and tags (the factor {@code tags} undoes that mean), except that the bias is not penalised
 * (as in scikit-learn); so scikit-learn's {@code C = 1 / (weightDecay * tags * windows)}. A tag with one
 * class only among the training windows has no finite optimum: it gets weight 0 and the bias of its
 * smoothed base rate, {@code logit((positives + 0.5) / (windows + 1))}.
 *
 * <p>The scaler is folded into the weights for each pass ({@code x' w = x (factor * w) - shift . (factor * w)}),
 * so the raw float matrix is read as it is, never copied. Successive {@link #fit} calls start from the previous
 * solution (a regularisation path, strongest first, converges in fewer iterations; the optimum is unique).
 * The tags are independent problems and are solved in parallel on the common fork-join pool; each tag's
 * arithmetic runs on one thread in a fixed order, so the result does not depend on the number of threads.
 * Called from one thread at a time; not thread-safe.
 */
public final class LinearProbeSolver {
    /** Pairs of steps L-BFGS remembers. */
    private static final int MEMORY = 10;
    /**
     * Stop when no gradient component of the (mean) objective exceeds this: ten times tighter than scikit-learn's
     * default {@code tol} on the same objective; 1e-6 took up to twice the iterations on a random encoder's features
     * and moved no test AUC at the fourth decimal.
     */
    public static final double GRADIENT_TOLERANCE = 1e-5;

    private final FeatureSet train;
    private final FeatureScaler scaler;
    private final boolean[][] windowLabels;
    private final int[] positives;
    /** Per tag the latest solution [w (dim), b]: the next fit's start. */
    private final double[][] theta;

    /**
     * One fit of every tag at one weight decay.
     *
     * @param head          the linear head (behind the solver's scaler)
     * @param weightDecay   the weight decay fitted
     * @param maxIterations the most L-BFGS iterations any tag took
     * @param unconverged   tags that reached the iteration limit before the gradient tolerance
     */
    public record Fit(ProbeHead head, double weightDecay, int maxIterations, int unconverged) {
    }

    /** A solver of the linear head on {@code train}'s windows, behind {@code scaler}. */
    public LinearProbeSolver(FeatureSet train, FeatureScaler scaler) {
        if (scaler.dim() != train.dim()) {
            throw new IllegalArgumentException("a scaler of " + scaler.dim() + " dimensions for features of " + train.dim());
        }
        this.train = train;
        this.scaler = scaler;
        int tags = train.tags().size();
        this.windowLabels = new boolean[tags][train.windows()];
        this.positives = new int[tags];
        for (int c = 0; c < train.clips(); c++) {
            for (int w = train.firstWindow(c); w < train.firstWindow(c) + train.windowCount(c); w++) {
                for (int t = 0; t < tags; t++) {
                    windowLabels[t][w] = train.labels()[c][t];
                    positives[t] += train.labels()[c][t] ? 1 : 0;
                }
            }
        }
        this.theta = new double[tags][train.dim() + 1];
        for (int t = 0; t < tags; t++) {
            theta[t][train.dim()] = baseRateLogit(t);
        }
    }

    /** Fits every tag at {@code weightDecay}, starting from the previous fit. */
    public Fit fit(double weightDecay, int maxIterations) {
        int tags = positives.length;
        int dim = train.dim();
        double lambda = weightDecay * tags;
        Lbfgs.Result[] results = new Lbfgs.Result[tags];
        IntStream.range(0, tags).parallel().filter(t -> !oneClass(t)).forEach(t ->
                results[t] = Lbfgs.minimise(new TagObjective(windowLabels[t], lambda), theta[t], MEMORY, maxIterations, GRADIENT_TOLERANCE));
        int most = 0;
        int unconverged = 0;
        for (Lbfgs.Result r : results) {
            if (r != null) {
                most = Math.max(most, r.iterations());
                unconverged += r.converged() ? 0 : 1;
            }
        }
        double[] w = new double[dim * tags];
        double[] b = new double[tags];
        for (int t = 0; t < tags; t++) {
            for (int i = 0; i < dim; i++) {
                w[i * tags + t] = theta[t][i];
            }
            b[t] = theta[t][dim];
        }
        return new Fit(ProbeHead.of(ProbeHead.Kind.LINEAR, dim, 0, tags, scaler, w, b), weightDecay, most, unconverged);
    }

    private boolean oneClass(int t) {
        return positives[t] == 0 || positives[t] == train.windows();
    }

    private double baseRateLogit(int t) {
        double p = (positives[t] + 0.5) / (train.windows() + 1.0);
        return Math.log(p / (1 - p));
    }

    /** J_t and its gradient over the training windows; theta = [w (dim), b] in scaled feature space. */
    private final class TagObjective implements Lbfgs.Objective {
        private final boolean[] y;
        private final double lambda;
        private final double[] wRaw;
        private final double[] residualX;

        TagObjective(boolean[] y, double lambda) {
            this.y = y;
            this.lambda = lambda;
            this.wRaw = new double[train.dim()];
            this.residualX = new double[train.dim()];
        }

        @Override
        public double valueAndGradient(double[] p, double[] grad) {
            int dim = train.dim();
            int n = train.windows();
            float[] x = train.matrix();
            double bRaw = p[dim];
            for (int k = 0; k < dim; k++) {
                wRaw[k] = p[k] * scaler.factor(k);
                bRaw -= scaler.shift(k) * wRaw[k];
            }
            java.util.Arrays.fill(residualX, 0.0);
            double loss = 0;
            double residualSum = 0;
            for (int r = 0; r < n; r++) {
                int base = r * dim;
                double z = bRaw;
                for (int k = 0; k < dim; k++) {
                    z += x[base + k] * wRaw[k];
                }
                // log(1 + e^z) - y z, stable for large |z|
                loss += Math.max(z, 0) - (y[r] ? z : 0) + Math.log1p(Math.exp(-Math.abs(z)));
                double residual = ProbeHead.sigmoid(z) - (y[r] ? 1 : 0);
                residualSum += residual;
                for (int k = 0; k < dim; k++) {
                    residualX[k] += residual * x[base + k];
                }
            }
            double penalty = 0;
            for (int k = 0; k < dim; k++) {
                grad[k] = scaler.factor(k) * (residualX[k] - scaler.shift(k) * residualSum) / n + lambda * p[k];
                penalty += p[k] * p[k];
            }
            grad[dim] = residualSum / n;
            return loss / n + 0.5 * lambda * penalty;
        }
    }
}

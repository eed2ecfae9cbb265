package org.clmr.eval.probe;

import org.clmr.data.random.Rng;

/**
 * A classifier head over frozen features: linear (logistic regression, one affine layer) or MLP (one
 * hidden ReLU layer), sigmoid outputs, trained with binary cross-entropy. Plain Java in double precision:
 * the heads are tiny, and one thread with a fixed summation order makes a seed reproduce bit for bit.
 * Weights are stored input-major ({@code w[i * out + o]}, the transpose of torch's {@code Linear.weight})
 * so the inner loops run over contiguous memory. A head owns the {@link FeatureScaler} it was trained behind
 * and applies it to raw features in every forward pass, so whoever uses the head later scales as training
 * did. Not thread-safe; one instance per training run.
 */
public final class ProbeHead {
    /** The head's architecture. */
    public enum Kind {
        /** One Linear layer: logits = x W + b. */
        LINEAR,
        /** Linear, ReLU, Linear: logits = relu(x W1 + b1) W2 + b2. */
        MLP;

        /** Parses {@code linear} or {@code mlp}. */
        public static Kind parse(String s) {
            return valueOf(s.trim().toUpperCase(java.util.Locale.ROOT));
        }
    }

    private final Kind kind;
    private final int in;
    private final int hidden;
    private final int out;
    private final FeatureScaler scaler;
    /** LINEAR: {w [in*out], b [out]}; MLP: {w1 [in*hidden], b1 [hidden], w2 [hidden*out], b2 [out]}. */
    private final double[][] params;
    private final double[][] grads;

    private ProbeHead(Kind kind, int in, int hidden, int out, FeatureScaler scaler, double[][] params) {
        if (scaler.dim() != in) {
            throw new IllegalArgumentException("a scaler of " + scaler.dim() + " dimensions for a head of " + in + " inputs");
        }
        this.kind = kind;
        this.scaler = scaler;
        this.in = in;
        this.hidden = hidden;
        this.out = out;
        this.params = params;
        this.grads = new double[params.length][];
        for (int p = 0; p < params.length; p++) {
            grads[p] = new double[params[p].length];
        }
    }

    /**
     * A freshly initialised head, drawn as torch's {@code nn.Linear} default: every weight and bias
     * uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)].
     *
     * @param hidden width of the MLP's hidden layer (ignored for LINEAR)
     */
    public static ProbeHead initialise(Kind kind, int in, int hidden, int out, Rng rng) {
        return initialise(kind, in, hidden, out, FeatureScaler.identity(in), rng);
    }

    /** As {@link #initialise(Kind, int, int, int, Rng)}, behind {@code scaler}. */
    public static ProbeHead initialise(Kind kind, int in, int hidden, int out, FeatureScaler scaler, Rng rng) {
        if (kind == Kind.LINEAR) {
            return new ProbeHead(kind, in, 0, out, scaler, new double[][] {uniform(in * out, in, rng), uniform(out, in, rng)});
        }
        return new ProbeHead(kind, in, hidden, out, scaler, new double[][] {
            uniform(in * hidden, in, rng), uniform(hidden, in, rng), uniform(hidden * out, hidden, rng), uniform(out, hidden, rng)});
    }

    /** A head with the given parameters (input-major weights, see the type's description) on raw features; copied. */
    public static ProbeHead of(Kind kind, int in, int hidden, int out, double[]... params) {
        return of(kind, in, hidden, out, FeatureScaler.identity(in), params);
    }

    /** A head with the given parameters behind {@code scaler}; copied. */
    public static ProbeHead of(Kind kind, int in, int hidden, int out, FeatureScaler scaler, double[]... params) {
        double[][] copy = new double[params.length][];
        for (int p = 0; p < params.length; p++) {
            copy[p] = params[p].clone();
        }
        int[] expected = kind == Kind.LINEAR ? new int[] {in * out, out} : new int[] {in * hidden, hidden, hidden * out, out};
        if (copy.length != expected.length) {
            throw new IllegalArgumentException(kind + " head needs " + expected.length + " parameter arrays, got " + copy.length);
        }
        for (int p = 0; p < expected.length; p++) {
            if (copy[p].length != expected[p]) {
                throw new IllegalArgumentException("parameter " + p + " has " + copy[p].length + " values, expected " + expected[p]);
            }
        }
        return new ProbeHead(kind, in, kind == Kind.LINEAR ? 0 : hidden, out, scaler, copy);
    }

    private static double[] uniform(int n, int fanIn, Rng rng) {
        double bound = 1.0 / Math.sqrt(fanIn);
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = rng.uniform(-bound, bound);
        }
        return a;
    }

    public Kind kind() {
        return kind;
    }

    public int inputs() {
        return in;
    }

    public int outputs() {
        return out;
    }

    /** Width of the MLP's hidden layer; 0 for LINEAR. */
    public int hidden() {
        return hidden;
    }

    /** The map from raw features to this head's inputs. */
    public FeatureScaler scaler() {
        return scaler;
    }

    /** The parameters (live arrays, for the optimiser). */
    double[][] parameters() {
        return params;
    }

    /** The gradients of the last {@link #lossAndGradient} (live arrays, for the optimiser). */
    double[][] gradients() {
        return grads;
    }

    /** A deep copy (the best epoch's head is kept while training goes on). */
    public ProbeHead copy() {
        return of(kind, in, hidden, out, scaler, params);
    }

    /** The parameters as copies, in the order of {@link #of}. */
    public double[][] parameterValues() {
        double[][] copy = new double[params.length][];
        for (int p = 0; p < params.length; p++) {
            copy[p] = params[p].clone();
        }
        return copy;
    }

    /**
     * Logits of a batch of rows of a row-major feature matrix.
     *
     * @param features [rows, in] row-major
     * @param rows     which rows form the batch
     * @param logits   out: [rows.length, out]
     * @param hiddenOut out for MLP: [rows.length, hidden] after ReLU (may be null for LINEAR)
     */
    private void forward(float[] features, int[] rows, double[] logits, double[] hiddenOut) {
        int batch = rows.length;
        if (kind == Kind.LINEAR) {
            affine(features, rows, scaler, params[0], params[1], out, logits);
            return;
        }
        affine(features, rows, scaler, params[0], params[1], hidden, hiddenOut);
        for (int k = 0; k < batch * hidden; k++) {
            hiddenOut[k] = Math.max(0.0, hiddenOut[k]);
        }
        for (int b = 0; b < batch; b++) {
            System.arraycopy(params[3], 0, logits, b * out, out);
            for (int j = 0; j < hidden; j++) {
                double h = hiddenOut[b * hidden + j];
                if (h != 0.0) {
                    axpy(h, params[2], j * out, logits, b * out, out);
                }
            }
        }
    }

    /** y[b, :] = bias + scaled(x[rows[b], :]) W for float inputs: [batch, width]. */
    private static void affine(float[] x, int[] rows, FeatureScaler scaler, double[] w, double[] bias, int width, double[] y) {
        int in = scaler.dim();
        for (int b = 0; b < rows.length; b++) {
            int base = rows[b] * in;
            System.arraycopy(bias, 0, y, b * width, width);
            for (int i = 0; i < in; i++) {
                double v = scaler.apply(i, x[base + i]);
                if (v != 0.0) {
                    axpy(v, w, i * width, y, b * width, width);
                }
            }
        }
    }

    private static void axpy(double a, double[] x, int xOff, double[] y, int yOff, int n) {
        for (int k = 0; k < n; k++) {
            y[yOff + k] += a * x[xOff + k];
        }
    }

    /**
     * Mean binary cross-entropy over the batch's rows and all outputs (torch's
     * {@code BCEWithLogitsLoss()}), and its gradient into {@link #gradients()} (overwritten).
     *
     * @param features [rows, in] row-major
     * @param rows     the batch's rows
     * @param targets  per batch element its 0/1 labels [out]
     */
    public double lossAndGradient(float[] features, int[] rows, boolean[][] targets) {
        int batch = rows.length;
        double[] logits = new double[batch * out];
        double[] h = kind == Kind.MLP ? new double[batch * hidden] : null;
        forward(features, rows, logits, h);
        double loss = 0;
        double scale = 1.0 / ((double) batch * out);
        double[] dLogits = new double[batch * out];
        for (int b = 0; b < batch; b++) {
            for (int o = 0; o < out; o++) {
                double x = logits[b * out + o];
                boolean y = targets[b][o];
                // log(1 + e^x) - y x, written to be stable for large |x|
                loss += Math.max(x, 0) - (y ? x : 0) + Math.log1p(Math.exp(-Math.abs(x)));
                dLogits[b * out + o] = (sigmoid(x) - (y ? 1 : 0)) * scale;
            }
        }
        for (double[] g : grads) {
            java.util.Arrays.fill(g, 0.0);
        }
        if (kind == Kind.LINEAR) {
            accumulate(features, rows, scaler, dLogits, out, grads[0], grads[1]);
        } else {
            backwardMlp(features, rows, h, dLogits);
        }
        return loss * scale;
    }

    private void backwardMlp(float[] features, int[] rows, double[] h, double[] dLogits) {
        int batch = rows.length;
        double[] w2 = params[2];
        double[] dh = new double[batch * hidden];
        for (int b = 0; b < batch; b++) {
            for (int j = 0; j < hidden; j++) {
                double hv = h[b * hidden + j];
                if (hv != 0.0) {
                    axpy(hv, dLogits, b * out, grads[2], j * out, out);
                    double s = 0;
                    for (int o = 0; o < out; o++) {
                        s += w2[j * out + o] * dLogits[b * out + o];
                    }
                    dh[b * hidden + j] = s;
                }
            }
            for (int o = 0; o < out; o++) {
                grads[3][o] += dLogits[b * out + o];
            }
        }
        accumulate(features, rows, scaler, dh, hidden, grads[0], grads[1]);
    }

    /** dW[i, :] += scaled(x[row, i]) * dy[b, :], db += dy[b, :], summed over the batch in order. */
    private static void accumulate(float[] x, int[] rows, FeatureScaler scaler, double[] dy, int width, double[] dw, double[] db) {
        int in = scaler.dim();
        for (int b = 0; b < rows.length; b++) {
            int base = rows[b] * in;
            for (int i = 0; i < in; i++) {
                double v = scaler.apply(i, x[base + i]);
                if (v != 0.0) {
                    axpy(v, dy, b * width, dw, i * width, width);
                }
            }
            for (int k = 0; k < width; k++) {
                db[k] += dy[b * width + k];
            }
        }
    }

    /**
     * Sigmoid outputs for rows of a feature matrix.
     *
     * @return [rows.length, out] row-major probabilities
     */
    public double[] predict(float[] features, int[] rows) {
        double[] logits = new double[rows.length * out];
        forward(features, rows, logits, kind == Kind.MLP ? new double[rows.length * hidden] : null);
        for (int k = 0; k < logits.length; k++) {
            logits[k] = sigmoid(logits[k]);
        }
        return logits;
    }

    static double sigmoid(double x) {
        return x >= 0 ? 1.0 / (1.0 + Math.exp(-x)) : Math.exp(x) / (1.0 + Math.exp(x));
    }
}

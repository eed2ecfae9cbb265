package org.clmr.worker.loss;

/**
 * NT-Xent (SimCLR's normalised temperature-scaled cross entropy) in the form a distributed step needs:
 * the summed loss terms of a set of LOCAL anchors against ALL gathered embeddings, divided by the GLOBAL
 * number of anchors 2B, and the gradient of that partial loss w.r.t. every gathered row. Summing the
 * partial losses and the gradients over workers gives the global loss and its exact gradient; in one
 * process the anchors are all rows. Computed in double precision on the host (2B x 2B similarities of
 * width d are small). Stateless.
 */
public final class NtXent {
    private static final double NORM_EPS = 1e-8;

    private NtXent() {
    }

    /**
     * A partial loss and its gradient.
     *
     * @param loss     sum over the given anchors of their cross-entropy terms, divided by the global count
     * @param gradient dLoss/dz for every gathered row, [rows, dim] row-major
     */
    public record Result(double loss, float[] gradient) {
    }

    /**
     * Positive partner of every row for gathered blocks laid out by rank, each block holding its
     * {@code counts[r]} first views followed by their second views in the same track order.
     */
    public static int[] pairedPositives(int[] counts) {
        int total = 0;
        for (int c : counts) {
            total += 2 * c;
        }
        int[] positive = new int[total];
        int base = 0;
        for (int c : counts) {
            for (int k = 0; k < c; k++) {
                positive[base + k] = base + c + k;
                positive[base + c + k] = base + k;
            }
            base += 2 * c;
        }
        return positive;
    }

    /**
     * @param z           gathered embeddings [rows, dim] row-major (not normalised)
     * @param dim         embedding width
     * @param anchors     the row indices whose loss terms this worker computes
     * @param positive    positive partner of each row
     * @param globalCount number of anchors of the whole batch (2B): the loss is a mean over them
     * @param temperature tau
     */
    public static Result compute(float[] z, int dim, int[] anchors, int[] positive, int globalCount,
                                 double temperature) {
        int rows = z.length / dim;
        if (rows * dim != z.length || positive.length != rows) {
            throw new IllegalArgumentException("z has " + z.length + " values, not rows x " + dim
                    + " with " + positive.length + " rows");
        }
        double[] u = new double[z.length];
        double[] norm = new double[rows];
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int j = 0; j < dim; j++) {
                double v = z[r * dim + j];
                s += v * v;
            }
            norm[r] = Math.max(Math.sqrt(s), NORM_EPS);
            for (int j = 0; j < dim; j++) {
                u[r * dim + j] = z[r * dim + j] / norm[r];
            }
        }
        double[] gu = new double[z.length];
        double[] logits = new double[rows];
        double loss = 0;
        double scale = 1.0 / globalCount;
        for (int a : anchors) {
            double max = Double.NEGATIVE_INFINITY;
            for (int l = 0; l < rows; l++) {
                if (l == a) {
                    continue;
                }
                double s = 0;
                for (int j = 0; j < dim; j++) {
                    s += u[a * dim + j] * u[l * dim + j];
                }
                logits[l] = s / temperature;
                max = Math.max(max, logits[l]);
            }
            double sum = 0;
            for (int l = 0; l < rows; l++) {
                if (l != a) {
                    sum += Math.exp(logits[l] - max);
                }
            }
            double lse = max + Math.log(sum);
            loss += lse - logits[positive[a]];
            for (int l = 0; l < rows; l++) {
                if (l == a) {
                    continue;
                }
                // dL/dlogit_l = softmax_l - [l is the positive]; dlogit/du = the other row / tau
                double g = (Math.exp(logits[l] - lse) - (l == positive[a] ? 1 : 0)) * scale / temperature;
                for (int j = 0; j < dim; j++) {
                    gu[a * dim + j] += g * u[l * dim + j];
                    gu[l * dim + j] += g * u[a * dim + j];
                }
            }
        }
        float[] gz = new float[z.length];
        for (int r = 0; r < rows; r++) {
            double dot = 0;
            for (int j = 0; j < dim; j++) {
                dot += u[r * dim + j] * gu[r * dim + j];
            }
            for (int j = 0; j < dim; j++) {
                gz[r * dim + j] = (float) ((gu[r * dim + j] - u[r * dim + j] * dot) / norm[r]);
            }
        }
        return new Result(loss * scale, gz);
    }
}

package org.clmr.eval.probe;

/**
 * Adam exactly as {@code torch.optim.Adam} (not AdamW): weight decay is L2 added to the gradient
 * ({@code g + wd * p}) before the moments; the step is {@code p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps)}
 * with bias corrections {@code bc = 1 - beta^t}. Not thread-safe.
 */
public final class Adam {
    private final double lr;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final double[][] m;
    private final double[][] v;
    private long t;

    /** Moments for parameter arrays of the given shapes. */
    public Adam(double[][] params, double lr, double beta1, double beta2, double eps, double weightDecay) {
        this.lr = lr;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.m = new double[params.length][];
        this.v = new double[params.length][];
        for (int p = 0; p < params.length; p++) {
            m[p] = new double[params[p].length];
            v[p] = new double[params[p].length];
        }
    }

    /** Adam with torch's default betas (0.9, 0.999) and epsilon 1e-8. */
    public static Adam forHead(ProbeHead head, double lr, double weightDecay) {
        return new Adam(head.parameters(), lr, 0.9, 0.999, 1e-8, weightDecay);
    }

    /** One update of {@code head} from its current gradients. */
    public void step(ProbeHead head) {
        step(head.parameters(), head.gradients());
    }

    /** One update of {@code params} in place from {@code grads} (left unchanged). */
    public void step(double[][] params, double[][] grads) {
        t++;
        double bc1 = 1 - Math.pow(beta1, t);
        double bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, t));
        double stepSize = lr / bc1;
        for (int p = 0; p < params.length; p++) {
            double[] w = params[p];
            double[] g = grads[p];
            double[] mp = m[p];
            double[] vp = v[p];
            for (int k = 0; k < w.length; k++) {
                double gk = g[k] + weightDecay * w[k];
                mp[k] = beta1 * mp[k] + (1 - beta1) * gk;
                vp[k] = beta2 * vp[k] + (1 - beta2) * gk * gk;
                w[k] -= stepSize * mp[k] / (Math.sqrt(vp[k]) / bc2Sqrt + eps);
            }
        }
    }
}

package org.clmr.eval.probe;

/**
 * Limited-memory BFGS for smooth convex objectives (Nocedal and Wright, Numerical Optimization, 2nd ed.,
 * Algorithm 7.4 and 7.5): the two-loop recursion over the last {@code memory} steps, initial Hessian
 * scaling {@code s'y / y'y}, and a backtracking line search to the Armijo condition. A step pair with
 * {@code s'y <= 0} (possible with Armijo alone) is not stored, which keeps the approximation positive
 * definite. Deterministic: no randomness, a fixed order of every sum. Caller's thread; not thread-safe.
 */
final class Lbfgs {
    private static final double ARMIJO = 1e-4;
    private static final int MAX_HALVINGS = 60;

    /** A function to minimise. */
    interface Objective {
        /** Writes the gradient at {@code x} into {@code gradient} and returns the value. */
        double valueAndGradient(double[] x, double[] gradient);
    }

    /**
     * How a minimisation ended.
     *
     * @param value      the objective at the returned point
     * @param iterations iterations taken (each one line search)
     * @param converged  whether the gradient's largest component fell to the tolerance
     */
    record Result(double value, int iterations, boolean converged) {
    }

    private Lbfgs() {
    }

    /**
     * Minimises {@code f} from {@code x} (updated in place).
     *
     * @param memory            step pairs kept (10 is usual)
     * @param maxIterations     upper bound on iterations
     * @param gradientTolerance stop when every gradient component is at most this in magnitude
     */
    static Result minimise(Objective f, double[] x, int memory, int maxIterations, double gradientTolerance) {
        int n = x.length;
        double[][] s = new double[memory][n];
        double[][] y = new double[memory][n];
        double[] rho = new double[memory];
        int stored = 0;
        int newest = -1;
        double[] g = new double[n];
        double[] gNew = new double[n];
        double[] d = new double[n];
        double[] xNew = new double[n];
        double[] alpha = new double[memory];
        double fx = f.valueAndGradient(x, g);
        int it = 0;
        while (it < maxIterations) {
            if (maxAbs(g) <= gradientTolerance) {
                return new Result(fx, it, true);
            }
            direction(g, s, y, rho, stored, newest, alpha, d);
            double slope = dot(g, d);
            if (!(slope < 0)) {
                stored = 0;
                for (int k = 0; k < n; k++) {
                    d[k] = -g[k];
                }
                slope = dot(g, d);
            }
            // the first step has no curvature yet: a unit step along -g could overshoot by |g|
            double t = stored == 0 ? Math.min(1.0, 1.0 / Math.sqrt(-slope)) : 1.0;
            double fNew = Double.NaN;
            int halvings = 0;
            for (; halvings < MAX_HALVINGS; halvings++) {
                for (int k = 0; k < n; k++) {
                    xNew[k] = x[k] + t * d[k];
                }
                fNew = f.valueAndGradient(xNew, gNew);
                if (fNew <= fx + ARMIJO * t * slope) {
                    break;
                }
                t *= 0.5;
            }
            it++;
            if (halvings == MAX_HALVINGS) {
                // no decrease along a descent direction: the point is optimal to working precision
                return new Result(fx, it, maxAbs(g) <= gradientTolerance);
            }
            double sy = 0;
            double yy = 0;
            for (int k = 0; k < n; k++) {
                double dy = gNew[k] - g[k];
                sy += (xNew[k] - x[k]) * dy;
                yy += dy * dy;
            }
            if (sy > 1e-12 * yy && yy > 0) {
                // the slot after the newest holds the oldest pair once memory is full: overwrite it only for a pair kept
                int slot = (newest + 1) % memory;
                for (int k = 0; k < n; k++) {
                    s[slot][k] = xNew[k] - x[k];
                    y[slot][k] = gNew[k] - g[k];
                }
                rho[slot] = 1.0 / sy;
                newest = slot;
                stored = Math.min(memory, stored + 1);
            }
            System.arraycopy(xNew, 0, x, 0, n);
            System.arraycopy(gNew, 0, g, 0, n);
            fx = fNew;
        }
        return new Result(fx, it, maxAbs(g) <= gradientTolerance);
    }

    /** d = -H g by the two-loop recursion over the stored pairs, newest first. */
    private static void direction(double[] g, double[][] s, double[][] y, double[] rho, int stored, int newest,
                                  double[] alpha, double[] d) {
        int n = g.length;
        int memory = rho.length;
        for (int k = 0; k < n; k++) {
            d[k] = -g[k];
        }
        for (int j = 0; j < stored; j++) {
            int i = Math.floorMod(newest - j, memory);
            alpha[i] = rho[i] * dot(s[i], d);
            for (int k = 0; k < n; k++) {
                d[k] -= alpha[i] * y[i][k];
            }
        }
        if (stored > 0) {
            double gamma = 1.0 / (rho[newest] * dot(y[newest], y[newest]));
            for (int k = 0; k < n; k++) {
                d[k] *= gamma;
            }
        }
        for (int j = stored - 1; j >= 0; j--) {
            int i = Math.floorMod(newest - j, memory);
            double beta = rho[i] * dot(y[i], d);
            for (int k = 0; k < n; k++) {
                d[k] += (alpha[i] - beta) * s[i][k];
            }
        }
    }

    private static double dot(double[] a, double[] b) {
        double sum = 0;
        for (int k = 0; k < a.length; k++) {
            sum += a[k] * b[k];
        }
        return sum;
    }

    private static double maxAbs(double[] a) {
        double m = 0;
        for (double v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}

package org.clmr.eval.probe;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LbfgsTest {
    /** sum_k d_k (x_k - a_k)^2 / 2 with curvatures from 1 to 1e4 (condition number 1e4). */
    private static final int N = 20;

    private static double quadratic(double[] x, double[] g) {
        double f = 0;
        for (int k = 0; k < N; k++) {
            double d = Math.pow(10, 4.0 * k / (N - 1));
            double r = x[k] - (k - 7.5);
            f += 0.5 * d * r * r;
            g[k] = d * r;
        }
        return f;
    }

    @Test
    void shouldMinimiseAnIllConditionedQuadraticToTheTolerance() {
        // a hard case for 10 pairs: scipy's L-BFGS-B (maxcor 10, pgtol 1e-9) needs 808 iterations on it
        double[] x = new double[N];
        Lbfgs.Result r = Lbfgs.minimise(LbfgsTest::quadratic, x, 10, 2000, 1e-9);
        assertTrue(r.converged(), "converged in " + r.iterations());
        for (int k = 0; k < N; k++) {
            assertEquals(k - 7.5, x[k], 1e-9);
        }
        assertTrue(r.iterations() < 1200, r.iterations() + " iterations");
    }

    @Test
    void shouldSayWhenTheIterationLimitStoppedIt() {
        double[] x = new double[N];
        Lbfgs.Result r = Lbfgs.minimise(LbfgsTest::quadratic, x, 10, 3, 1e-9);
        assertFalse(r.converged());
        assertEquals(3, r.iterations());
    }
}

package org.clmr.worker.step;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import org.clmr.data.random.Rng;
import org.clmr.protocol.run.ModelSpec;
import org.clmr.worker.collective.Collective;
import org.clmr.worker.model.ClmrNetwork;
import org.clmr.worker.model.ConvBnSegment;
import org.clmr.worker.model.Param;
import org.clmr.worker.model.Tensors;
import org.clmr.worker.optim.Adam;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.clmr.worker.step.DistributedStepTest.B;
import static org.clmr.worker.step.DistributedStepTest.DATA;
import static org.clmr.worker.step.DistributedStepTest.SEED;
import static org.clmr.worker.step.DistributedStepTest.TINY;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The synchronised batch norm: against one PyTorch batch_norm over the whole global batch, and against finite differences. */
@Timeout(120)
class SyncBatchNormTest {

    @BeforeAll
    static void loadEngine() {
        Engine.getEngine("PyTorch");
    }

    /**
     * After one step split (5, 3) over two ranks, every layer's running mean and (unbiased) variance on
     * both ranks equal those PyTorch's batch_norm in training mode keeps over the whole batch of 8,
     * both views in turn, starting from the same weights.
     */
    @Test
    void shouldKeepTheRunningStatisticsOfOneBatchNormOverTheGlobalBatch() {
        int[] shares = {5, 3};
        List<List<float[]>> ranks = Ranks.run(2, c -> {
            try (ClmrNetwork net = ClmrNetwork.create(TINY, SEED, Device.cpu());
                 Adam adam = new Adam(DistributedStepTest.ADAM, net.params())) {
                new DistributedStep(net, adam, DistributedStepTest.TAU, c, 0)
                        .run(0, shares, DistributedStepTest.slice(0));
                return DistributedStepTest.runningStats(net);
            }
        });
        List<float[]> expected = wholeBatchRunningStats();
        for (List<float[]> got : ranks) {
            for (int i = 0; i < expected.size(); i++) {
                float[] e = expected.get(i);
                float[] a = got.get(i);
                for (int k = 0; k < e.length; k++) {
                    double tol = 1e-5 * Math.max(1, Math.abs(e[k]));
                    assertTrue(Math.abs(e[k] - a[k]) <= tol, "layer " + i / 2 + (i % 2 == 0 ? " mean" : " var")
                            + " channel " + k + ": " + a[k] + " vs torch " + e[k]);
                }
            }
        }
    }

    /** Running statistics (mean, var per layer) of torch's own batch_norm over both views of the whole batch. */
    private static List<float[]> wholeBatchRunningStats() {
        ViewPairs all = DATA.batch(0, 0);
        try (ClmrNetwork net = ClmrNetwork.create(TINY, SEED, Device.cpu());
             NDManager m = net.manager().newSubManager()) {
            List<NDArray> rm = new ArrayList<>();
            List<NDArray> rv = new ArrayList<>();
            for (ConvBnSegment s : net.segments()) {
                rm.add(m.zeros(new Shape(s.outChannels())));
                rv.add(m.ones(new Shape(s.outChannels())));
            }
            for (float[] view : new float[][] {all.first(), all.second()}) {
                NDArray a = Tensors.upload(m, view, new Shape(B, 1, TINY.inputLength()));
                for (ConvBnSegment s : net.segments()) {
                    List<Param> p = s.params();
                    NDArray y = JniUtils.convolution((PtNDArray) a, (PtNDArray) p.get(0).value(),
                            (PtNDArray) p.get(1).value(), new Shape(s.index() == 0 ? 3 : 1),
                            new Shape(s.index() == 0 ? 0 : 1), new Shape(1), 1);
                    NDArray bn = JniUtils.batchNorm((PtNDArray) y, (PtNDArray) rm.get(s.index()),
                            (PtNDArray) rv.get(s.index()), (PtNDArray) p.get(2).value(), (PtNDArray) p.get(3).value(),
                            true, ConvBnSegment.MOMENTUM, ConvBnSegment.EPS);
                    a = JniUtils.relu((PtNDArray) bn);
                    if (s.pooled()) {
                        a = JniUtils.maxPool((PtNDArray) a, new Shape(3), new Shape(3), new Shape(0), false);
                    }
                }
            }
            List<float[]> out = new ArrayList<>();
            for (int i = 0; i < rm.size(); i++) {
                out.add(rm.get(i).toFloatArray());
                out.add(rv.get(i).toFloatArray());
            }
            return out;
        }
    }

    /** Three pooled blocks on 81 samples, as narrow as ModelSpec allows: a float64 forward takes milliseconds. */
    static final ModelSpec MICRO = new ModelSpec("micro", 81, 16, List.of(16, 16, 32), 5);
    static final double H = 1e-6;
    /** (parameter index, element): stem conv weight and bias, block convs, BN weight and bias, head. */
    static final int[][] PROBES = {{0, 1}, {1, 0}, {4, 5}, {10, 2}, {11, 3}, {15, 1}, {16, 7}, {20, 3}, {21, 11}};

    /**
     * The segmented, synchronised batch norm's gradient in float64, the global batch of 5 split (3, 2)
     * over two ranks, against central finite differences of the global objective
     * L = sum over both views and all rows of (c . z + |z|^2 / 2), evaluated by the same split forward.
     */
    @Test
    void shouldMatchFiniteDifferencesOfTheGlobalObjectiveInFloat64() {
        int[] shares = {3, 2};
        Rng rng = new Rng(21);
        double[][] x = {gaussian(rng, 5 * 81), gaussian(rng, 5 * 81)};
        double[][] c = {gaussian(rng, 5 * 5), gaussian(rng, 5 * 5)};
        List<double[][]> ranks = Ranks.run(2, col -> gradientCheck(col, shares, x, c));
        double[] analytic = ranks.get(0)[0];
        double[] numeric = ranks.get(0)[1];
        for (int k = 0; k < PROBES.length; k++) {
            double tol = 1e-6 * Math.max(Math.abs(numeric[k]), 1e-2);
            assertTrue(Math.abs(analytic[k] - numeric[k]) <= tol, "param " + PROBES[k][0] + " element " + PROBES[k][1]
                    + ": backward " + analytic[k] + ", finite differences " + numeric[k]);
        }
        assertTrue(Math.abs(analytic[2]) > 1e-3, "a probe with a gradient worth checking");
    }

    /** {analytic gradients summed over ranks, finite differences} at the probes. */
    private static double[][] gradientCheck(Collective col, int[] shares, double[][] x, double[][] c) {
        try (ClmrNetwork net = ClmrNetwork.create(MICRO, 9, Device.cpu(), DataType.FLOAT64)) {
            int offset = col.rank() == 0 ? 0 : shares[0];
            int own = shares[col.rank()];
            long[] step = {0};
            double[] analytic = new double[PROBES.length];
            try (NDManager scope = net.manager().newSubManager()) {
                StepCollective ops = new StepCollective(col, 0, step[0]++);
                JniUtils.setGradMode(true);
                List<ClmrNetwork.ViewTape> tapes = new ArrayList<>();
                for (int v = 0; v < 2; v++) {
                    tapes.add(net.forwardTrain(rows(scope, x[v], offset, own, 81, new Shape(own, 1, 81)), v, ops));
                }
                for (int v = 0; v < 2; v++) {
                    NDArray z = tapes.get(v).z;                                      // [s, 5]
                    NDArray gz = z.stopGradient().add(rows(scope, c[v], offset, own, 5, new Shape(own, 5)));
                    net.backward(tapes.get(v), gz, ops);
                }
                JniUtils.setGradMode(false);
                List<Param> params = net.params();
                for (int k = 0; k < PROBES.length; k++) {
                    analytic[k] = Tensors.download(params.get(PROBES[k][0]).value().getGradient())[PROBES[k][1]];
                }
                new StepCollective(col, 0, step[0]++).allReduceSum(analytic);
            }
            double[] numeric = new double[PROBES.length];
            for (int k = 0; k < PROBES.length; k++) {
                NDArray p = net.params().get(PROBES[k][0]).value();
                bump(p, PROBES[k][1], H);
                double plus = objective(net, col, step[0]++, offset, own, x, c);
                bump(p, PROBES[k][1], -2 * H);
                double minus = objective(net, col, step[0]++, offset, own, x, c);
                bump(p, PROBES[k][1], H);
                numeric[k] = (plus - minus) / (2 * H);
            }
            return new double[][] {analytic, numeric};
        }
    }

    /** The global objective: this rank's rows' terms, summed over ranks. */
    private static double objective(ClmrNetwork net, Collective col, long step, int offset, int own, double[][] x,
                                    double[][] c) {
        StepCollective ops = new StepCollective(col, 0, step);
        double[] sum = new double[1];
        try (NDManager scope = net.manager().newSubManager()) {
            for (int v = 0; v < 2; v++) {
                double[] z = Tensors.download(net.forwardTrain(rows(scope, x[v], offset, own, 81,
                        new Shape(own, 1, 81)), v, ops).z);
                for (int i = 0; i < z.length; i++) {
                    sum[0] += c[v][offset * 5 + i] * z[i] + 0.5 * z[i] * z[i];
                }
            }
        }
        ops.allReduceSum(sum);
        return sum[0];
    }

    private static NDArray rows(NDManager m, double[] all, int offset, int count, int width, Shape shape) {
        return Tensors.upload(m, Arrays.copyOfRange(all, offset * width, (offset + count) * width), shape,
                DataType.FLOAT64);
    }

    private static void bump(NDArray p, int element, double h) {
        double[] delta = new double[Math.toIntExact(p.getShape().size())];
        delta[element] = h;
        try (NDArray d = Tensors.upload(p.getManager(), delta, p.getShape(), DataType.FLOAT64)) {
            p.addi(d);
        }
    }

    private static double[] gaussian(Rng rng, int n) {
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = rng.nextGaussian();
        }
        return out;
    }
}

package org.clmr.worker.step;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import org.clmr.worker.model.Adam;
import org.clmr.worker.model.ClmrNetwork;
import org.clmr.worker.model.ConvBnSegment;
import org.clmr.worker.model.Param;
import org.clmr.worker.model.Tensors;
import org.clmr.worker.train.ViewPairSource.ViewPairs;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;

import static org.clmr.worker.step.DistributedStepTest.B;
import static org.clmr.worker.step.DistributedStepTest.DATA;
import static org.clmr.worker.step.DistributedStepTest.SEED;
import static org.clmr.worker.step.DistributedStepTest.TINY;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The synchronised batch norm against one PyTorch batch_norm over the whole global batch. */
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
}

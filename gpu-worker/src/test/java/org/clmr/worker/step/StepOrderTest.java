package org.clmr.worker.step;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import org.clmr.protocol.run.Shares;
import org.clmr.worker.collective.Collective;
import org.clmr.worker.collective.CollectiveTimeoutException;
import org.clmr.worker.collective.InProcessCollective;
import org.clmr.worker.collective.OpTag;
import org.clmr.worker.loss.DeviceNtXent;
import org.clmr.worker.model.ClmrNetwork;
import org.clmr.worker.model.Gradients;
import org.clmr.worker.model.Param;
import org.clmr.worker.model.Tensors;
import org.clmr.worker.optim.Adam;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.clmr.worker.step.DistributedStepTest.ADAM;
import static org.clmr.worker.step.DistributedStepTest.SEED;
import static org.clmr.worker.step.DistributedStepTest.STEPS;
import static org.clmr.worker.step.DistributedStepTest.TAU;
import static org.clmr.worker.step.DistributedStepTest.TINY;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The step's schedule changes no bit: both views through a segment before the next with one batch-norm
 * exchange per layer and pass, and the gradient summed in buckets on a communication thread behind the
 * backward pass, end with exactly the losses, gradients, running statistics and weights of the order the
 * step had before: view after view, one exchange per layer, pass and view, and one all-reduce of the whole
 * gradient after the backward pass (kept here, built from the same parts, as {@link #viewByView}).
 */
@Timeout(300)
class StepOrderTest {
    /** Gradient elements per bucket: the tiny model's gradient goes in several buckets. */
    static final int BUCKET = 2000;
    static final int LAYERS = TINY.blockChannels().size() + 2;

    /** What one rank ends a run with, and how many batch-norm exchanges and buckets its steps issued. */
    record Run(DistributedStepTest.RankResult result, int batchNormExchanges, int buckets) {
    }

    @BeforeAll
    static void loadEngine() {
        Engine.getEngine("PyTorch");
    }

    @Test
    void shouldEndWithTheBitsOfTheViewByViewOrderWithHalfTheBatchNormExchanges() {
        for (int[] shares : new int[][] {{8}, {5, 3}, {3, 4, 1}}) {
            String split = Arrays.toString(shares);
            List<Run> now = Ranks.run(shares.length, c -> bucketed(c, shares));
            List<Run> before = Ranks.run(shares.length, c -> viewByView(c, shares));
            for (int r = 0; r < shares.length; r++) {
                DistributedStepTest.RankResult a = now.get(r).result();
                DistributedStepTest.RankResult b = before.get(r).result();
                String who = split + " rank " + r;
                assertArrayEquals(b.losses(), a.losses(), 0.0, who + ": losses");
                for (int k = 0; k < STEPS; k++) {
                    assertArrayEquals(b.gradients().get(k), a.gradients().get(k), 0f, who + ": gradient of step " + k);
                }
                assertArrayEquals(b.firstWeights(), a.firstWeights(), 0f, who + ": weights after the first step");
                for (int i = 0; i < b.firstRunningStats().size(); i++) {
                    assertArrayEquals(b.firstRunningStats().get(i), a.firstRunningStats().get(i), 0f,
                            who + ": running statistics " + i);
                }
                assertEquals(b.fingerprint(), a.fingerprint(), who + ": weights after " + STEPS + " steps");
                assertEquals(4 * LAYERS * STEPS, before.get(r).batchNormExchanges(), who + ": view by view");
                assertEquals(2 * LAYERS * STEPS, now.get(r).batchNormExchanges(), who + ": both views together");
                if (shares.length > 1) {
                    assertTrue(now.get(r).buckets() > STEPS, who + ": several buckets a step");
                }
            }
        }
    }

    /**
     * A peer that dies when its first gradient bucket is due: the other rank's bucket all-reduce reaches its
     * deadline naming it, and the step leaves that rank's model as it was (weights, gradients, statistics).
     */
    @Test
    void shouldLeaveTheModelAsItWasWhenAGradientBucketFails() throws Exception {
        int[] shares = {4, 4};
        List<Collective> world = InProcessCollective.group(2, 0, 3000);
        AtomicBoolean peerDiedAtBucket = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (ClmrNetwork net = ClmrNetwork.create(TINY, SEED, Device.cpu());
             Adam adam = new Adam(ADAM, net.params())) {
            String before = net.fingerprint();
            List<float[]> stats = DistributedStepTest.runningStats(net);
            Future<?> peer = pool.submit(() -> {
                try (ClmrNetwork other = ClmrNetwork.create(TINY, SEED, Device.cpu());
                     Adam otherAdam = new Adam(ADAM, other.params())) {
                    new DistributedStep(other, otherAdam, TAU, new DiesAtFirstBucket(world.get(1), peerDiedAtBucket), 0,
                            BUCKET).computeGradients(0, shares, DistributedStepTest.slice(0));
                }
            });
            DistributedStep step = new DistributedStep(net, adam, TAU, world.get(0), 0, BUCKET);
            Future<?> self = pool.submit(() -> step.computeGradients(0, shares, DistributedStepTest.slice(0)));
            Exception e = assertThrows(Exception.class, () -> self.get(120, TimeUnit.SECONDS));
            CollectiveTimeoutException timeout = assertInstanceOf(CollectiveTimeoutException.class, e.getCause());
            assertEquals(List.of(1), timeout.silentRanks());
            assertThrows(Exception.class, () -> peer.get(120, TimeUnit.SECONDS));
            assertTrue(peerDiedAtBucket.get(), "the peer died when its first bucket was due");
            assertEquals(before, net.fingerprint(), "weights and running statistics as before the step");
            List<float[]> after = DistributedStepTest.runningStats(net);
            for (int i = 0; i < stats.size(); i++) {
                assertArrayEquals(stats.get(i), after.get(i), 0f);
            }
            float[] gradients = Gradients.flatten(net.params());
            assertEquals(0.0, DistributedStepTest.maxAbs(gradients, 0, gradients.length), "no gradient left behind");
        } finally {
            pool.shutdownNow();
        }
    }

    /** The step now, with buckets of {@link #BUCKET} elements. */
    static Run bucketed(Collective c, int[] shares) {
        try (ClmrNetwork net = ClmrNetwork.create(TINY, SEED, Device.cpu());
             Adam adam = new Adam(ADAM, net.params())) {
            DistributedStep step = new DistributedStep(net, adam, TAU, c, 0, BUCKET);
            double[] losses = new double[STEPS];
            List<float[]> gradients = new ArrayList<>();
            float[] firstWeights = null;
            List<float[]> firstStats = null;
            int exchanges = 0;
            int buckets = 0;
            for (int k = 0; k < STEPS; k++) {
                DistributedStep.Pending p = step.computeGradients(k, shares, DistributedStepTest.slice(k));
                losses[k] = p.loss();
                gradients.add(Gradients.flatten(net.params()));
                DistributedStep.Result r = step.apply(p);
                assertTrue(r.applied(), r.skipReason());
                exchanges += r.traffic().batchNormCollectives();
                buckets += r.traffic().buckets();
                if (k == 0) {
                    firstWeights = DistributedStepTest.weights(net.params());
                    firstStats = DistributedStepTest.runningStats(net);
                }
            }
            return new Run(new DistributedStepTest.RankResult(losses, gradients, firstWeights, firstStats,
                    net.fingerprint()), exchanges, buckets);
        }
    }

    /** The order before: each view through the whole encoder in turn, the gradient summed after the backward. */
    static Run viewByView(Collective c, int[] shares) {
        try (ClmrNetwork net = ClmrNetwork.create(TINY, SEED, Device.cpu());
             Adam adam = new Adam(ADAM, net.params())) {
            List<Param> params = net.params();
            double[] losses = new double[STEPS];
            List<float[]> gradients = new ArrayList<>();
            float[] firstWeights = null;
            List<float[]> firstStats = null;
            int exchanges = 0;
            for (int k = 0; k < STEPS; k++) {
                StepCollective ops = new StepCollective(c, 0, k);
                losses[k] = viewByViewGradients(net, ops, shares, k);
                if (c.worldSize() > 1) {
                    float[] flat = Gradients.flatten(params);
                    ops.allReduceSum(flat);
                    Gradients.overwrite(params, flat);
                }
                exchanges += ops.batchNormOperations();
                gradients.add(Gradients.flatten(params));
                assertEquals(null, Gradients.firstNonFinite(params));
                adam.update();
                if (k == 0) {
                    firstWeights = DistributedStepTest.weights(params);
                    firstStats = DistributedStepTest.runningStats(net);
                }
            }
            return new Run(new DistributedStepTest.RankResult(losses, gradients, firstWeights, firstStats,
                    net.fingerprint()), exchanges, 0);
        }
    }

    private static double viewByViewGradients(ClmrNetwork net, StepCollective ops, int[] shares, long k) {
        int offset = Shares.offset(shares, ops.rank());
        int own = shares[ops.rank()];
        ViewPairs pairs = DistributedStepTest.slice(k).load(offset, own);
        JniUtils.setGradMode(true);
        try (NDManager scope = net.manager().newSubManager()) {
            List<NDArray> x = Tensors.uploadRows(scope, List.of(pairs.first(), pairs.second()),
                    new Shape(own, 1, TINY.inputLength()));
            ClmrNetwork.ViewTape v1 = net.forwardTrain(x.get(0), 0, ops);
            ClmrNetwork.ViewTape v2 = net.forwardTrain(x.get(1), 1, ops);
            DeviceNtXent.Views l = ops.worldSize() == 1 ? DeviceNtXent.ofViews(v1.z, v2.z, TAU)
                    : gathered(scope, v1, v2, shares, offset, ops);
            net.backward(v1, l.gradients().get(0), ops);
            net.backward(v2, l.gradients().get(1), ops);
            return l.loss();
        } finally {
            JniUtils.setGradMode(false);
        }
    }

    private static DeviceNtXent.Views gathered(NDManager scope, ClmrNetwork.ViewTape v1, ClmrNetwork.ViewTape v2,
                                               int[] shares, int offset, StepCollective ops) {
        int own = shares[ops.rank()];
        int dim = TINY.projectionDim();
        float[] local;
        try (NDArray z1 = v1.z.stopGradient(); NDArray z2 = v2.z.stopGradient();
             NDArray both = NDArrays.concat(new NDList(z1, z2))) {
            local = Tensors.downloadFloats(both);
        }
        int[] rowCounts = Arrays.stream(shares).map(s -> 2 * s * dim).toArray();
        float[] z = ops.allGather(local, rowCounts);
        double[] packed;
        try (NDArray all = Tensors.upload(scope, z, new Shape(z.length / dim, dim))) {
            DeviceNtXent.Result r = DeviceNtXent.compute(all, 2 * offset, own, z.length / dim, TAU);
            try (NDArray g = r.gradient().reshape(-1); NDArray both = NDArrays.concat(new NDList(g, r.loss()))) {
                packed = Tensors.download(both);
            }
        }
        double[] loss = {packed[packed.length - 1]};
        float[] gradient = new float[packed.length - 1];
        for (int i = 0; i < gradient.length; i++) {
            gradient[i] = (float) packed[i];
        }
        ops.allReduceSum(loss);
        float[] own2 = ops.reduceScatterSum(gradient, rowCounts);
        int half = own * dim;
        return new DeviceNtXent.Views(loss[0], Tensors.uploadRows(scope, List.of(Arrays.copyOfRange(own2, 0, half),
                Arrays.copyOfRange(own2, half, 2 * half)), new Shape(own, dim)));
    }

    /**
     * A rank whose process dies when its first gradient bucket is due (the step all-reduces floats only in
     * buckets): it stops answering, as a killed worker would. Every other operation is the real collective's.
     */
    private record DiesAtFirstBucket(Collective real, AtomicBoolean died) implements Collective {
        @Override
        public int rank() {
            return real.rank();
        }

        @Override
        public int worldSize() {
            return real.worldSize();
        }

        @Override
        public void allReduceSum(OpTag tag, float[] data, int offset, int length) {
            died.set(true);
            throw new IllegalStateException("rank " + rank() + " died at op " + tag);
        }

        @Override
        public void allReduceSum(OpTag tag, double[] data) {
            real.allReduceSum(tag, data);
        }

        @Override
        public float[] allGather(OpTag tag, float[] local, int[] counts) {
            return real.allGather(tag, local, counts);
        }

        @Override
        public float[] reduceScatterSum(OpTag tag, float[] data, int[] counts) {
            return real.reduceScatterSum(tag, data, counts);
        }

        @Override
        public byte[] broadcast(OpTag tag, byte[] data, int root) {
            return real.broadcast(tag, data, root);
        }

        @Override
        public void close() {
            real.close();
        }
    }
}

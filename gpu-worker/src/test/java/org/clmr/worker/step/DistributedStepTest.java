package org.clmr.worker.step;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import org.clmr.protocol.run.ModelSpec;
import org.clmr.protocol.run.OptimizerSpec;
import org.clmr.protocol.run.Shares;
import org.clmr.worker.collective.Collective;
import org.clmr.worker.collective.CollectiveTimeoutException;
import org.clmr.worker.collective.InProcessCollective;
import org.clmr.worker.loss.NtXent;
import org.clmr.worker.model.ClmrNetwork;
import org.clmr.worker.model.ConvBnSegment;
import org.clmr.worker.model.Gradients;
import org.clmr.worker.model.Param;
import org.clmr.worker.model.Tensors;
import org.clmr.worker.optim.Adam;
import org.clmr.worker.reference.ClmrStep;
import org.clmr.worker.train.SyntheticViewSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The acceptance test of the distributed semantics: one global batch split as (B), (B/2, B/2), (B-2, 2)
 * and three uneven shares gives the same loss, parameter gradients, weights after Adam and running
 * statistics; the ranks of one run end bit-identical. Ranks run as threads over InProcessCollective.
 */
@Timeout(180)
class DistributedStepTest {
    static final ModelSpec TINY = ModelSpec.preset("tiny", 16);
    static final int B = 8;
    static final long SEED = 11;
    static final OptimizerSpec ADAM = new OptimizerSpec(3e-4, 0.9, 0.999, 1e-8);
    static final double TAU = 0.5;
    static final int STEPS = 2;

    /** The global batch of (epoch 0, step k): a chord per track, random crops and gains per view. */
    static final SyntheticViewSource DATA = new SyntheticViewSource(SEED, 32, B, TINY.inputLength(), 22050,
            (view, sampleRate, rng) -> { });

    /** What one rank ends a run with. */
    record RankResult(double[] losses, List<float[]> gradients, float[] firstWeights, List<float[]> firstRunningStats,
                      String fingerprint) {
    }

    @BeforeAll
    static void loadEngine() {
        Engine.getEngine("PyTorch");
    }

    static DistributedStep.ShareLoader slice(long step) {
        return (offset, count) -> slice(DATA.batch(0, step), offset, count);
    }

    static ViewPairs slice(ViewPairs all, int offset, int count) {
        int l = all.length();
        return new ViewPairs(count, l, Arrays.copyOfRange(all.first(), offset * l, (offset + count) * l),
                Arrays.copyOfRange(all.second(), offset * l, (offset + count) * l));
    }

    /** STEPS steps with the given shares: every step's loss and summed gradients; weights and running statistics after the first. */
    static List<RankResult> train(int... shares) {
        return Ranks.run(shares.length, c -> rank(c, shares));
    }

    static RankResult rank(Collective c, int[] shares) {
        try (ClmrNetwork net = ClmrNetwork.create(TINY, SEED, Device.cpu());
             Adam adam = new Adam(ADAM, net.params())) {
            DistributedStep step = new DistributedStep(net, adam, TAU, c, 0);
            double[] losses = new double[STEPS];
            List<float[]> gradients = new ArrayList<>();
            float[] firstWeights = null;
            List<float[]> firstStats = null;
            for (int k = 0; k < STEPS; k++) {
                DistributedStep.Pending p = step.computeGradients(k, shares, slice(k));
                losses[k] = p.loss();
                gradients.add(Gradients.flatten(net.params()));
                DistributedStep.Result r = step.apply(p);
                assertTrue(r.applied(), r.skipReason());
                if (k == 0) {
                    firstWeights = weights(net.params());
                    firstStats = runningStats(net);
                }
            }
            return new RankResult(losses, gradients, firstWeights, firstStats, net.fingerprint());
        }
    }

    static float[] weights(List<Param> params) {
        List<float[]> parts = new ArrayList<>();
        for (Param p : params) {
            parts.add(p.value().toFloatArray());
        }
        return concat(parts);
    }

    static List<float[]> runningStats(ClmrNetwork net) {
        List<float[]> out = new ArrayList<>();
        for (ConvBnSegment s : net.segments()) {
            out.add(s.runningMean().clone());
            out.add(s.runningVar().clone());
        }
        return out;
    }

    static float[] concat(List<float[]> parts) {
        int n = parts.stream().mapToInt(a -> a.length).sum();
        float[] out = new float[n];
        int at = 0;
        for (float[] a : parts) {
            System.arraycopy(a, 0, out, at, a.length);
            at += a.length;
        }
        return out;
    }

    /** A parameter tensor's name and size (the layout of the flat vectors). */
    record Tensor(String name, int size) {
        /**
         * Conv biases feed batch norm, which subtracts them out again: their exact gradient is 0 and what
         * autograd computes for them is rounding noise (Adam then moves them by about lr either way).
         */
        boolean beforeBatchNorm() {
            return name.startsWith("sequential.") && name.endsWith(".0.bias");
        }
    }

    static List<Tensor> layout() {
        try (ClmrNetwork net = ClmrNetwork.create(TINY, SEED, Device.cpu())) {
            return net.params().stream().map(p -> new Tensor(p.name(), Math.toIntExact(p.size()))).toList();
        }
    }

    static double maxAbs(float[] a, float[] b, int from, int to) {
        double d = 0;
        for (int i = from; i < to; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }

    static double maxAbs(float[] a, float[] b) {
        return maxAbs(a, b, 0, a.length);
    }

    static double maxAbs(float[] a, int from, int to) {
        return maxAbs(a, new float[a.length], from, to);
    }

    /**
     * Checks gradients tensor by tensor: max |a - b| / max |a| below {@code relative}; for the conv biases
     * (exact gradient 0) max |a - b| below {@code relative} times the largest gradient of all.
     */
    static void assertSameGradients(float[] expected, float[] actual, double relative, String what) {
        double largest = maxAbs(expected, 0, expected.length);
        int at = 0;
        for (Tensor t : layout()) {
            double diff = maxAbs(expected, actual, at, at + t.size());
            double scale = t.beforeBatchNorm() ? largest : maxAbs(expected, at, at + t.size());
            assertTrue(diff <= relative * scale, what + ": gradient of " + t.name() + " differs by " + diff
                    + ", its scale is " + scale);
            at += t.size();
        }
    }

    /**
     * Weights after one update. Adam moves a weight by lr g / (|g| + eps), about lr whatever the size of g,
     * so where g itself is below the gradients' tolerance (relative to its tensor's scale, as in
     * {@link #assertSameGradients}) only Adam's bound of lr holds; elsewhere the weights must agree within
     * {@code tolerance}.
     */
    static void assertSameWeights(float[] gradient, float[] expected, float[] actual, double relative,
                                  double tolerance, String what) {
        double largest = maxAbs(gradient, 0, gradient.length);
        int at = 0;
        for (Tensor t : layout()) {
            double floor = relative * (t.beforeBatchNorm() ? largest : maxAbs(gradient, at, at + t.size()));
            for (int i = at; i < at + t.size(); i++) {
                double bound = Math.abs(gradient[i]) > floor ? tolerance : 2 * ADAM.learningRate();
                double diff = Math.abs(expected[i] - actual[i]);
                assertTrue(diff <= bound, what + ": weight " + (i - at) + " of " + t.name() + " differs by " + diff
                        + " (gradient " + gradient[i] + ")");
            }
            at += t.size();
        }
    }

    @Test
    void shouldComputeWhatTheSingleProcessStepComputesWithOneRank() {
        RankResult one = train(B).get(0);
        try (ClmrNetwork net = ClmrNetwork.create(TINY, SEED, Device.cpu());
             Adam adam = new Adam(ADAM, net.params())) {
            ClmrStep step = new ClmrStep(net, adam, TAU);
            for (int k = 0; k < STEPS; k++) {
                ViewPairs b = DATA.batch(0, k);
                assertEquals(one.losses()[k], step.run(B, b.length(), b.first(), b.second()).loss(), 0.0);
            }
            assertEquals(net.fingerprint(), one.fingerprint(), "bit-identical to ClmrStep");
        }
    }

    @Test
    void shouldGiveTheSameStepWhateverTheSplitOfTheGlobalBatch() {
        RankResult whole = train(B).get(0);
        int[][] splits = {{B / 2, B / 2}, {B - 2, 2}, {3, 4, 1}};
        for (int[] split : splits) {
            String name = Arrays.toString(split);
            List<RankResult> ranks = train(split);
            for (RankResult r : ranks) {
                assertEquals(ranks.get(0).fingerprint(), r.fingerprint(), name + ": every rank holds the same bits");
            }
            RankResult r = ranks.get(0);
            for (int k = 0; k < STEPS; k++) {
                double rel = Math.abs(r.losses()[k] - whole.losses()[k]) / Math.abs(whole.losses()[k]);
                assertTrue(rel < 1e-5, name + " step " + k + ": loss " + r.losses()[k] + " vs " + whole.losses()[k]);
            }
            // the first step's gradients only: the second step's start from weights that Adam's first update
            // may have moved by up to lr where a gradient is within rounding of 0 (see assertSameWeights)
            assertSameGradients(whole.gradients().get(0), r.gradients().get(0), 1e-4, name);
            assertSameWeights(whole.gradients().get(0), whole.firstWeights(), r.firstWeights(), 1e-4,
                    0.01 * ADAM.learningRate(), name);
            // after the first step only: later ones see conv biases that Adam moved by about lr either way
            for (int i = 0; i < whole.firstRunningStats().size(); i++) {
                double s = maxAbs(whole.firstRunningStats().get(i), r.firstRunningStats().get(i));
                assertTrue(s < 1e-5, name + ": running statistics " + i + " differ by " + s);
            }
        }
    }

    /**
     * The shortcut many implementations take: remote embeddings enter the loss as constants, so each rank
     * back-propagates only its own anchors' gradient w.r.t. its own rows (no sum over ranks of the
     * gradients w.r.t. gathered rows). It misses every term where a rank's rows are another rank's
     * negatives or positives: its gradient is not that of the global loss, and this suite tells them apart.
     */
    @Test
    void shouldTellTheExactGradientFromTheConstantRemoteEmbeddingsShortcut() {
        int[] shares = {B / 2, B / 2};
        float[] exact = train(shares).get(0).gradients().get(0);
        List<float[]> shortcut = Ranks.run(2, c -> shortcutGradients(c, shares));
        assertTrue(Arrays.equals(shortcut.get(0), shortcut.get(1)), "summed over ranks");
        float[] wrong = shortcut.get(0);
        double largest = maxAbs(exact, 0, exact.length);
        double diff = maxAbs(exact, wrong);
        assertTrue(diff > 1e-2 * largest, "the shortcut's gradient differs from the exact one by only " + diff
                + " at scale " + largest + ": the equivalence test could not catch it");
    }

    /** One step's parameter gradients, summed over ranks, with the shortcut's loss gradient. */
    static float[] shortcutGradients(Collective c, int[] shares) {
        try (ClmrNetwork net = ClmrNetwork.create(TINY, SEED, Device.cpu());
             NDManager scope = net.manager().newSubManager()) {
            StepCollective ops = new StepCollective(c, 0, 0);
            int offset = Shares.offset(shares, c.rank());
            int own = shares[c.rank()];
            ViewPairs pairs = slice(0).load(offset, own);
            Shape shape = new Shape(own, 1, TINY.inputLength());
            JniUtils.setGradMode(true);
            ClmrNetwork.ViewTape v1 = net.forwardTrain(Tensors.upload(scope, pairs.first(), shape), 0, ops);
            ClmrNetwork.ViewTape v2 = net.forwardTrain(Tensors.upload(scope, pairs.second(), shape), 1, ops);
            int dim = TINY.projectionDim();
            float[] local = concat(List.of(v1.z.toFloatArray(), v2.z.toFloatArray()));
            int[] rowCounts = {2 * shares[0] * dim, 2 * shares[1] * dim};
            float[] z = ops.allGather(local, rowCounts);
            int[] anchors = new int[2 * own];
            for (int i = 0; i < anchors.length; i++) {
                anchors[i] = 2 * offset + i;
            }
            float[] g = NtXent.compute(z, dim, anchors,
                    NtXent.pairedPositives(shares), 2 * B, TAU).gradient();
            int from = 2 * offset * dim;
            int half = own * dim;
            Shape rows = new Shape(own, dim);
            net.backward(v1, Tensors.upload(scope, Arrays.copyOfRange(g, from, from + half), rows), ops);
            net.backward(v2, Tensors.upload(scope, Arrays.copyOfRange(g, from + half, from + 2 * half), rows), ops);
            JniUtils.setGradMode(false);
            float[] flat = Gradients.flatten(net.params());
            ops.allReduceSum(flat);
            return flat;
        }
    }

    /** A rank whose peer never comes fails within the deadline, naming it, and keeps its model as it was. */
    @Test
    void shouldLeaveTheModelAsItWasWhenAPeerIsSilent() {
        List<Collective> world = InProcessCollective.group(2, 0, 300);
        try (ClmrNetwork net = ClmrNetwork.create(TINY, SEED, Device.cpu());
             Adam adam = new Adam(ADAM, net.params())) {
            String before = net.fingerprint();
            DistributedStep step = new DistributedStep(net, adam, TAU, world.get(0), 0);
            CollectiveTimeoutException e = assertThrows(CollectiveTimeoutException.class,
                    () -> step.computeGradients(0, new int[] {4, 4}, slice(0)));
            assertEquals(List.of(1), e.silentRanks());
            assertEquals(before, net.fingerprint());
            float[] gradients = Gradients.flatten(net.params());
            assertEquals(0.0, maxAbs(gradients, 0, gradients.length), "no gradient left behind");
        }
    }
}

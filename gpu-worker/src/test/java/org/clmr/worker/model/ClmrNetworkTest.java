package org.clmr.worker.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import org.clmr.data.random.Rng;
import org.clmr.protocol.run.ModelSpec;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClmrNetworkTest {
    /** Three blocks: 81 samples, narrow, so the whole-graph comparison runs in well under a second. */
    static final ModelSpec MICRO = new ModelSpec("micro", 81, 16, List.of(16, 16, 32), 5);

    @Test
    void shouldHaveThePapersParameterCounts() {
        try (ClmrNetwork net = ClmrNetwork.create(ModelSpec.paper(128), 1, Device.cpu())) {
            assertEquals(2_368_512, ClmrNetwork.count(net.encoderParams()));
            assertEquals(327_680, ClmrNetwork.count(net.headParams()));
            assertEquals(2_696_192, ClmrNetwork.count(net.params()));
            assertEquals(11, net.segments().size());
            assertEquals("sequential.10.1.bias", net.encoderParams().get(43).name());
        }
    }

    @Test
    void shouldInitialiseIdenticallyFromTheSeedAndDifferentlyFromAnother() {
        try (ClmrNetwork a = ClmrNetwork.create(ModelSpec.preset("tiny", 16), 3, Device.cpu());
             ClmrNetwork b = ClmrNetwork.create(ModelSpec.preset("tiny", 16), 3, Device.cpu());
             ClmrNetwork c = ClmrNetwork.create(ModelSpec.preset("tiny", 16), 4, Device.cpu())) {
            assertEquals(a.fingerprint(), b.fingerprint());
            assertNotEquals(a.fingerprint(), c.fingerprint());
            float[] w = a.params().get(0).value().toFloatArray();
            double bound = Math.sqrt(6.0 / 3);
            for (float v : w) {
                assertTrue(Math.abs(v) <= bound, "He-uniform bound");
            }
        }
    }

    @Test
    void shouldEncodeToOneFeatureVectorPerWaveform() {
        ModelSpec tiny = ModelSpec.preset("tiny", 16);
        try (ClmrNetwork net = ClmrNetwork.create(tiny, 1, Device.cpu());
             NDManager m = net.manager().newSubManager()) {
            NDArray h = net.encode(m.randomNormal(new Shape(3, 1, tiny.inputLength())));
            assertEquals(new Shape(3, tiny.encoderDim()), h.getShape());
            assertEquals(new Shape(3, 16), net.project(h).getShape());
        }
    }

    /**
     * The segmented pass (own batch norm from reduced moments, detached boundaries, two-stage backward)
     * against one ordinary autograd graph with PyTorch's batch_norm in training mode, both seeded with
     * the same upstream gradient on z for two views.
     */
    @Test
    void shouldMatchAWholeGraphBackwardWithTorchBatchNorm() {
        int batch = 3;
        try (ClmrNetwork net = ClmrNetwork.create(MICRO, 9, Device.cpu());
             NDManager m = net.manager().newSubManager()) {
            Rng rng = new Rng(5);
            float[][] x = {gaussian(rng, batch * 81), gaussian(rng, batch * 81)};
            float[][] gz = {gaussian(rng, batch * 5), gaussian(rng, batch * 5)};

            // whole graph
            List<float[]> runningMean = new ArrayList<>();
            List<float[]> runningVar = new ArrayList<>();
            float[][] zWhole = new float[2][];
            try (GradientCollector c = Engine.getEngine("PyTorch").newGradientCollector()) {
                List<NDArray> rm = new ArrayList<>();
                List<NDArray> rv = new ArrayList<>();
                for (ConvBnSegment s : net.segments()) {
                    rm.add(m.zeros(new Shape(s.outChannels())));
                    rv.add(m.ones(new Shape(s.outChannels())));
                }
                for (int v = 0; v < 2; v++) {
                    NDArray a = Tensors.upload(m, x[v], new Shape(batch, 1, 81));
                    for (ConvBnSegment s : net.segments()) {
                        List<Param> p = s.params();
                        NDArray y = JniUtils.convolution((PtNDArray) a, (PtNDArray) p.get(0).value(),
                                (PtNDArray) p.get(1).value(), new Shape(s.index() == 0 ? 3 : 1),
                                new Shape(s.index() == 0 ? 0 : 1), new Shape(1), 1);
                        NDArray bn = JniUtils.batchNorm((PtNDArray) y, (PtNDArray) rm.get(s.index()),
                                (PtNDArray) rv.get(s.index()), (PtNDArray) p.get(2).value(),
                                (PtNDArray) p.get(3).value(), true, 0.1, 1e-5);
                        a = JniUtils.relu((PtNDArray) bn);
                        if (s.pooled()) {
                            a = JniUtils.maxPool((PtNDArray) a, new Shape(3), new Shape(3), new Shape(0), false);
                        }
                    }
                    NDArray z = net.project(a.reshape(batch, MICRO.encoderDim()));
                    zWhole[v] = z.toFloatArray();
                    JniUtils.backward((PtNDArray) z, (PtNDArray) Tensors.upload(m, gz[v], new Shape(batch, 5)), false, false);
                }
                rm.forEach(r -> runningMean.add(r.toFloatArray()));
                rv.forEach(r -> runningVar.add(r.toFloatArray()));
            }
            List<float[]> wholeGrads = grads(net);
            Gradients.zero(net.params());

            // segmented
            float[][] zSeg = new float[2][];
            try (GradientCollector c = Engine.getEngine("PyTorch").newGradientCollector()) {
                for (int v = 0; v < 2; v++) {
                    ClmrNetwork.ViewTape t = net.forwardTrain(Tensors.upload(m, x[v], new Shape(batch, 1, 81)), v, BatchStats.LOCAL);
                    zSeg[v] = t.z.toFloatArray();
                    net.backward(t, Tensors.upload(m, gz[v], new Shape(batch, 5)), BatchStats.LOCAL);
                }
            }
            List<float[]> segGrads = grads(net);

            for (int v = 0; v < 2; v++) {
                assertClose(zWhole[v], zSeg[v], 1e-5, "z of view " + v);
            }
            for (int i = 0; i < segGrads.size(); i++) {
                assertClose(wholeGrads.get(i), segGrads.get(i), 1e-4, "gradient of " + net.params().get(i).name());
            }
            for (ConvBnSegment s : net.segments()) {
                assertClose(runningMean.get(s.index()), s.runningMean(), 1e-5, "running mean " + s.index());
                assertClose(runningVar.get(s.index()), s.runningVar(), 1e-5, "running var " + s.index());
                assertEquals(2, s.batchesTracked());
            }
        }
    }

    /**
     * The premise of {@link ModelSpec#CHANNEL_MULTIPLE}: with output widths that are multiples of 16 the CPU
     * convolution's input gradient stays finite (with 8 output channels, 8-13 of 3000 such passes were NaN
     * on the development VM).
     */
    @Test
    void shouldGetFiniteConvInputGradientsAtWidthsThatAreMultiplesOfSixteen() {
        int bad = 0;
        try (NDManager m = NDManager.newBaseManager()) {
            for (int i = 0; i < 2000; i++) {
                try (NDManager s = m.newSubManager();
                     GradientCollector c = Engine.getEngine("PyTorch").newGradientCollector()) {
                    NDArray x = s.randomNormal(new Shape(3, 16, 27));
                    x.setRequiresGradient(true);
                    NDArray w = s.randomNormal(new Shape(ModelSpec.CHANNEL_MULTIPLE, 16, 3));
                    NDArray b = s.randomNormal(new Shape(ModelSpec.CHANNEL_MULTIPLE));
                    NDArray y = JniUtils.convolution((PtNDArray) x, (PtNDArray) w, (PtNDArray) b, new Shape(1),
                            new Shape(1), new Shape(1), 1);
                    JniUtils.backward((PtNDArray) y, (PtNDArray) s.randomNormal(y.getShape()), false, false);
                    bad += x.getGradient().isNaN().any().getBoolean() ? 1 : 0;
                }
            }
        }
        assertEquals(0, bad, "backward passes with a NaN input gradient");
    }

    @Test
    void shouldRoundTripGradientsThroughAFlatVectorInPlace() {
        try (ClmrNetwork net = ClmrNetwork.create(MICRO, 2, Device.cpu())) {
            int n = Gradients.size(net.params());
            float[] flat = gaussian(new Rng(3), n);
            flat[0] = Float.NaN;
            Gradients.overwrite(net.params(), flat);
            flat[0] = 1.5f;
            Gradients.overwrite(net.params(), flat);
            assertArrayEqualsExactly(flat, Gradients.flatten(net.params()));
            assertEquals(1.5f, grads(net).get(0)[0]);
        }
    }

    @Test
    void shouldOverwriteATensorHoldingNaNWithCleanValues() {
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray t = Tensors.upload(m, new float[] {Float.NaN, Float.POSITIVE_INFINITY, 1f}, new Shape(3));
            t.setRequiresGradient(true);
            Tensors.overwrite(t, new float[] {0.5f, -2f, 3f});
            assertArrayEqualsExactly(new float[] {0.5f, -2f, 3f}, t.toFloatArray());
        }
    }

    private static void assertArrayEqualsExactly(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        for (int i = 0; i < a.length; i++) {
            assertEquals(Float.floatToIntBits(a[i]), Float.floatToIntBits(b[i]), "element " + i);
        }
    }

    static List<float[]> grads(ClmrNetwork net) {
        List<float[]> out = new ArrayList<>();
        for (Param p : net.params()) {
            try (NDArray g = p.value().getGradient()) {
                out.add(g.toFloatArray());
            }
        }
        return out;
    }

    static float[] gaussian(Rng rng, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rng.nextGaussian();
        }
        return x;
    }

    /** max |a - b| <= tol * max(1, max |a|). */
    static void assertClose(float[] want, float[] got, double tol, String what) {
        assertEquals(want.length, got.length, what);
        double scale = 1;
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            scale = Math.max(scale, Math.abs(want[i]));
            worst = Math.max(worst, Math.abs(want[i] - got[i]));
        }
        assertTrue(worst <= tol * scale, what + ": max difference " + worst + " at scale " + scale);
    }
}

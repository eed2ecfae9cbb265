package org.clmr.worker.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

import java.util.List;

/**
 * One segment of the SampleCNN encoder: conv1d(k3) + batch norm + ReLU (+ maxpool 3 in the pooled blocks).
 * Batch norm is computed here from per-channel moments that pass through a {@link BatchStats} reducer, so
 * the statistics may be those of a batch spread over several workers. In training the segment keeps its
 * own autograd graph (its input is a detached leaf) and back-propagates in two stages: through the
 * normalisation with mean and variance as leaves, then, after adding the (reduced) statistics' gradient
 * analytically, through the convolution.
 *
 * <p>Reference names: {@code sequential.{i}.0.weight|bias} (conv), {@code sequential.{i}.1.weight|bias|
 * running_mean|running_var|num_batches_tracked} (batch norm). Training thread only.
 */
public final class ConvBnSegment {
    /** PyTorch's BatchNorm1d defaults. */
    public static final float EPS = 1e-5f;
    public static final float MOMENTUM = 0.1f;
    static final int KERNEL = 3;

    private final int index;
    private final int inChannels;
    private final int outChannels;
    private final int stride;
    private final int padding;
    private final boolean pool;
    private final NDArray weight;
    private final NDArray bias;
    private final NDArray gamma;
    private final NDArray beta;
    private final float[] runningMean;
    private final float[] runningVar;
    private long batchesTracked;

    ConvBnSegment(int index, int inChannels, int outChannels, int stride, int padding, boolean pool,
                  NDArray weight, NDArray bias, NDArray gamma, NDArray beta) {
        this.index = index;
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.stride = stride;
        this.padding = padding;
        this.pool = pool;
        this.weight = weight;
        this.bias = bias;
        this.gamma = gamma;
        this.beta = beta;
        this.runningMean = new float[outChannels];
        this.runningVar = new float[outChannels];
        java.util.Arrays.fill(runningVar, 1f);
    }

    /** The state-dict prefix, {@code sequential.{i}}. */
    public String prefix() {
        return "sequential." + index;
    }

    /** Conv weight [Cout, Cin, 3], conv bias, BN weight, BN bias, with reference names. */
    public List<Param> params() {
        return List.of(new Param(prefix() + ".0.weight", weight), new Param(prefix() + ".0.bias", bias),
                new Param(prefix() + ".1.weight", gamma), new Param(prefix() + ".1.bias", beta));
    }

    public int index() {
        return index;
    }

    public int inChannels() {
        return inChannels;
    }

    public int outChannels() {
        return outChannels;
    }

    /** Output length for an input of {@code length} samples. */
    public long outputLength(long length) {
        long conv = (length + 2L * padding - KERNEL) / stride + 1;
        return pool ? conv / KERNEL : conv;
    }

    public boolean pooled() {
        return pool;
    }

    /** The running mean (live array: the checkpoint code reads and restores it). */
    public float[] runningMean() {
        return runningMean;
    }

    /** The running (unbiased) variance (live array). */
    public float[] runningVar() {
        return runningVar;
    }

    public long batchesTracked() {
        return batchesTracked;
    }

    public void setBatchesTracked(long n) {
        batchesTracked = n;
    }

    /** What the training forward keeps for the backward pass. */
    public static final class Tape {
        final NDArray input;
        final NDArray conv;
        final NDArray convValue;
        final NDArray convLeaf;
        final NDArray meanLeaf;
        final NDArray varLeaf;
        final double[] mean;
        final double count;
        /** This segment's output, [B, C, T']. */
        public final NDArray output;

        Tape(NDArray input, NDArray conv, NDArray convValue, NDArray convLeaf, NDArray meanLeaf, NDArray varLeaf,
             double[] mean, double count, NDArray output) {
            this.input = input;
            this.conv = conv;
            this.convValue = convValue;
            this.convLeaf = convLeaf;
            this.meanLeaf = meanLeaf;
            this.varLeaf = varLeaf;
            this.mean = mean;
            this.count = count;
            this.output = output;
        }
    }

    /**
     * Training forward: batch statistics from {@code stats}, running statistics updated. Must run with
     * autograd recording on (inside the step's gradient collector).
     *
     * @param input      [B, Cin, T], in the step's manager
     * @param inputGrad  whether to make the input a gradient-requiring leaf (all but the first segment)
     */
    public Tape forwardTrain(NDArray input, boolean inputGrad, int view, BatchStats stats) {
        NDManager m = input.getManager();
        NDArray in = input;
        if (inputGrad) {
            in = input.stopGradient();
            in.setRequiresGradient(true);
        }
        NDArray y = conv(in);                                    // [B, C, T]
        NDArray value = y.stopGradient();
        long count = value.getShape().get(0) * value.getShape().get(2);
        int c = outChannels;
        float[] s1 = value.sum(new int[] {0, 2}).toFloatArray();
        float[] s2 = value.square().sum(new int[] {0, 2}).toFloatArray();
        double[] local = new double[2 * c + 1];
        for (int i = 0; i < c; i++) {
            local[i] = s1[i];
            local[c + i] = s2[i];
        }
        local[2 * c] = count;
        double[] global = stats.reduceMoments(view, index, local);
        double n = global[2 * c];
        double[] mean = new double[c];
        float[] meanF = new float[c];
        float[] varF = new float[c];
        for (int i = 0; i < c; i++) {
            mean[i] = global[i] / n;
            double var = Math.max(global[c + i] / n - mean[i] * mean[i], 0);
            meanF[i] = (float) mean[i];
            varF[i] = (float) var;
            float unbiased = (float) (n > 1 ? var * n / (n - 1) : var);
            runningMean[i] = (1 - MOMENTUM) * runningMean[i] + MOMENTUM * meanF[i];
            runningVar[i] = (1 - MOMENTUM) * runningVar[i] + MOMENTUM * unbiased;
        }
        batchesTracked++;
        NDArray meanLeaf = Tensors.upload(m, meanF);
        meanLeaf.setRequiresGradient(true);
        NDArray varLeaf = Tensors.upload(m, varF);
        varLeaf.setRequiresGradient(true);
        NDArray leaf = y.stopGradient();
        leaf.setRequiresGradient(true);
        // no Number operands in a recorded graph: DJL wraps them in Java-owned scalars that it frees right
        // after the op, while autograd keeps them for the backward pass (pow saves its exponent)
        NDArray eps = Tensors.upload(m, new float[] {EPS});
        NDArray exponent = Tensors.upload(m, new float[] {-0.5f});
        NDArray scale = varLeaf.add(eps).pow(exponent).mul(gamma);  // [C]
        NDArray shift = meanLeaf.mul(scale).neg().add(beta);        // [C]
        NDArray out = activate(leaf.mul(scale.reshape(1, c, 1)).add(shift.reshape(1, c, 1)));
        return new Tape(inputGrad ? in : null, y, value, leaf, meanLeaf, varLeaf, mean, n, out);
    }

    /**
     * Backward through this segment, seeded with the gradient of the loss w.r.t. its output.
     *
     * @return the gradient w.r.t. the segment's input, or null for the first segment
     */
    public NDArray backward(Tape t, NDArray gradOutput, int view, BatchStats stats) {
        JniUtils.backward((PtNDArray) t.output, (PtNDArray) gradOutput, false, false);
        int c = outChannels;
        NDArray gy = t.convLeaf.getGradient();                      // [B, C, T]
        float[] gm = t.meanLeaf.getGradient().toFloatArray();
        float[] gv = t.varLeaf.getGradient().toFloatArray();
        double[] local = new double[2 * c];
        for (int i = 0; i < c; i++) {
            local[i] = gm[i];
            local[c + i] = gv[i];
        }
        double[] global = stats.reduceGradients(view, index, local);
        // mean = S1/N and var = S2/N - mean^2, so dmean/dy = 1/N and dvar/dy = 2 (y - mean) / N:
        // dL/dy = gy + a + b y with a = (Gmean - 2 mean Gvar) / N and b = 2 Gvar / N, per channel
        float[] a = new float[c];
        float[] b = new float[c];
        for (int i = 0; i < c; i++) {
            a[i] = (float) ((global[i] - 2 * t.mean[i] * global[c + i]) / t.count);
            b[i] = (float) (2 * global[c + i] / t.count);
        }
        NDManager m = gy.getManager();
        NDArray dy = t.convValue.mul(Tensors.upload(m, b, new Shape(1, c, 1))).add(Tensors.upload(m, a, new Shape(1, c, 1))).add(gy);
        JniUtils.backward((PtNDArray) t.conv, (PtNDArray) dy, false, false);
        return t.input == null ? null : t.input.getGradient();
    }

    /** Inference forward with the running statistics. */
    public NDArray forwardEval(NDArray input) {
        NDManager m = input.getManager();
        int c = outChannels;
        float[] invStd = new float[c];
        for (int i = 0; i < c; i++) {
            invStd[i] = (float) (1.0 / Math.sqrt(runningVar[i] + (double) EPS));
        }
        NDArray scale = Tensors.upload(m, invStd).mul(gamma);
        NDArray shift = Tensors.upload(m, runningMean).mul(scale).neg().add(beta);
        NDArray y = conv(input);
        return activate(y.mul(scale.reshape(1, c, 1)).add(shift.reshape(1, c, 1)));
    }

    private NDArray conv(NDArray in) {
        return JniUtils.convolution((PtNDArray) in, (PtNDArray) weight, (PtNDArray) bias, new Shape(stride),
                new Shape(padding), new Shape(1), 1);
    }

    private NDArray activate(NDArray x) {
        NDArray r = JniUtils.relu((PtNDArray) x);
        return pool ? JniUtils.maxPool((PtNDArray) r, new Shape(KERNEL), new Shape(KERNEL), new Shape(0), false) : r;
    }
}

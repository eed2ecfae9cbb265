package org.clmr.worker.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
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

    /**
     * What the training forward keeps for the backward pass, in the step's manager. Its [B, C, T] arrays
     * stay until the step's scope closes: freeing them one by one as the backward pass leaves each segment
     * measured slower on CPU (glibc returned the memory to the system mid-step and took page faults for
     * it again in the next allocation), whereas one release per step lets the next step reuse the heap.
     */
    public static final class Tape {
        final NDArray input;
        final NDArray conv;
        final NDArray convValue;
        final NDArray convLeaf;
        final NDArray gammaLeaf;
        final NDArray betaLeaf;
        final double[] mean;
        final double[] gammaInvStd;
        final double[] invStd;
        final double count;
        /** This segment's output, [B, C, T']. */
        public final NDArray output;

        Tape(NDArray input, NDArray conv, NDArray convValue, NDArray convLeaf, NDArray gammaLeaf, NDArray betaLeaf,
             double[] mean, double[] gammaInvStd, double[] invStd, double count, NDArray output) {
            this.input = input;
            this.conv = conv;
            this.convValue = convValue;
            this.convLeaf = convLeaf;
            this.gammaLeaf = gammaLeaf;
            this.betaLeaf = betaLeaf;
            this.mean = mean;
            this.gammaInvStd = gammaInvStd;
            this.invStd = invStd;
            this.count = count;
            this.output = output;
        }
    }

    /**
     * Training forward: batch statistics from {@code stats}, running statistics updated. Must run with
     * autograd recording on (inside the step's gradient collector). Small temporaries are closed at once.
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
        DataType type = value.getDataType();
        double[] local = localMoments(m, value, count, type);
        double[] global = stats.reduceMoments(view, index, local);
        double n = global[2 * c];
        double[] mean = new double[c];
        double[] meanT = new double[c];   // the statistics as the tensors' type holds them
        double[] varT = new double[c];
        for (int i = 0; i < c; i++) {
            mean[i] = global[i] / n;
            double var = Math.max(global[c + i] / n - mean[i] * mean[i], 0);
            meanT[i] = Tensors.round(mean[i], type);
            varT[i] = Tensors.round(var, type);
            float meanF = (float) mean[i];
            float unbiased = (float) (n > 1 ? var * n / (n - 1) : var);
            runningMean[i] = (1 - MOMENTUM) * runningMean[i] + MOMENTUM * meanF;
            runningVar[i] = (1 - MOMENTUM) * runningVar[i] + MOMENTUM * unbiased;
        }
        batchesTracked++;
        // Normalisation by PyTorch's fused batch_norm in inference form, fed the (global) statistics; the
        // gradient w.r.t. those statistics follows from the local BN weight/bias gradients (see backward),
        // which per-view leaf copies of gamma and beta collect separately from the accumulated ones.
        double[] g = Tensors.download(gamma);
        double[] invStd = new double[c];
        double[] gammaInvStd = new double[c];
        for (int i = 0; i < c; i++) {
            invStd[i] = 1 / Math.sqrt(varT[i] + (double) EPS);
            gammaInvStd[i] = g[i] * invStd[i];
        }
        NDArray leaf = y.stopGradient();
        leaf.setRequiresGradient(true);
        NDArray gammaLeaf = scoped(gamma.stopGradient(), m);
        gammaLeaf.setRequiresGradient(true);
        NDArray betaLeaf = scoped(beta.stopGradient(), m);
        betaLeaf.setRequiresGradient(true);
        Shape channels = new Shape(c);
        NDArray out;
        // the graph keeps its own references to the statistics it saves
        try (NDArray meanArray = Tensors.upload(m, meanT, channels, type);
             NDArray varArray = Tensors.upload(m, varT, channels, type)) {
            out = activateRecorded(pool, JniUtils.batchNorm((PtNDArray) leaf, (PtNDArray) meanArray, (PtNDArray) varArray,
                    (PtNDArray) gammaLeaf, (PtNDArray) betaLeaf, false, MOMENTUM, EPS));
        }
        return new Tape(inputGrad ? in : null, y, value, leaf, gammaLeaf, betaLeaf, mean, gammaInvStd, invStd, n, out);
    }

    /**
     * {@code [sum_c, sumsq_c, count]} of the conv output over batch and time. The sum of squares comes from
     * the local batch centred on its own mean m (|y - m|^2, plus m (2 sum y - n m) in double): a float sum
     * of y^2 would lose the variance to cancellation where |mean| >> std, and the statistics of a split
     * batch would then differ from the whole batch's by far more than rounding.
     */
    private double[] localMoments(NDManager m, NDArray value, long count, DataType type) {
        int c = outChannels;
        int[] axes = {0, 2};
        double[] s1;
        try (NDArray sum = value.sum(axes)) {
            s1 = Tensors.download(sum);
        }
        double[] shift = new double[c];
        for (int i = 0; i < c; i++) {
            shift[i] = Tensors.round(s1[i] / count, type);
        }
        double[] s2;
        // (y - m)^2 squared in place and summed: two cheap passes, where libtorch's norm reduction took 3x
        // as long as both on the paper preset's widest layer
        try (NDArray shiftArray = Tensors.upload(m, shift, new Shape(1, c, 1), type);
             NDArray centred = value.sub(shiftArray);
             NDArray squares = centred.muli(centred).sum(axes)) {   // |y - m|^2 per channel
            s2 = Tensors.download(squares);
        }
        double[] local = new double[2 * c + 1];
        for (int i = 0; i < c; i++) {
            local[i] = s1[i];
            local[c + i] = s2[i] + shift[i] * (2.0 * s1[i] - count * shift[i]);
        }
        local[2 * c] = count;
        return local;
    }

    private static NDArray scoped(NDArray a, NDManager scope) {
        a.attach(scope);
        return a;
    }

    /**
     * Backward through this segment, seeded with the gradient of the loss w.r.t. its output; the tape is
     * spent afterwards (its conv output holds dL/dy).
     *
     * @return the gradient w.r.t. the segment's input (the caller closes it), or null for the first segment
     */
    public NDArray backward(Tape t, NDArray gradOutput, int view, BatchStats stats) {
        JniUtils.backward((PtNDArray) t.output, (PtNDArray) gradOutput, false, false);
        int c = outChannels;
        double[] dGamma;                                            // sum dL/dbn * xhat, this view only
        double[] dBeta;                                             // sum dL/dbn
        try (NDArray gg = t.gammaLeaf.getGradient(); NDArray gb = t.betaLeaf.getGradient()) {
            dGamma = Tensors.download(gg);
            dBeta = Tensors.download(gb);
        }
        accumulate(gamma, dGamma);
        accumulate(beta, dBeta);
        // xhat = (y - mean) invstd, so dL/dmean = -gamma invstd sum(dL/dbn) and
        // dL/dvar = -1/2 gamma invstd^2 sum(dL/dbn xhat), with mean and var held as inputs
        double[] local = new double[2 * c];
        for (int i = 0; i < c; i++) {
            local[i] = -t.gammaInvStd[i] * dBeta[i];
            local[c + i] = -0.5 * t.gammaInvStd[i] * t.invStd[i] * dGamma[i];
        }
        double[] global = stats.reduceGradients(view, index, local);
        // mean = S1/N and var = S2/N - mean^2, so dmean/dy = 1/N and dvar/dy = 2 (y - mean) / N:
        // dL/dy = gy + a + b y with a = (Gmean - 2 mean Gvar) / N and b = 2 Gvar / N, per channel
        double[] a = new double[c];
        double[] b = new double[c];
        for (int i = 0; i < c; i++) {
            a[i] = (global[i] - 2 * t.mean[i] * global[c + i]) / t.count;
            b[i] = 2 * global[c + i] / t.count;
        }
        NDManager m = t.convValue.getManager();
        DataType type = t.convValue.getDataType();
        // dy is built in the conv output's own storage: nothing reads y after the first stage (the conv
        // backward needs only its input and weight), so no [B, C, T] array is allocated here
        NDArray dy = t.convValue;
        try (NDArray gy = t.convLeaf.getGradient();                 // [B, C, T], = dL/dbn * gamma * invstd
             NDArray bArray = Tensors.upload(m, b, new Shape(1, c, 1), type);
             NDArray aArray = Tensors.upload(m, a, new Shape(1, c, 1), type)) {
            dy.muli(bArray).addi(aArray).addi(gy);
        }
        JniUtils.backward((PtNDArray) t.conv, (PtNDArray) dy, false, false);
        return t.input == null ? null : t.input.getGradient();
    }

    /** Adds a per-channel gradient into a parameter's accumulated gradient (a backward through a view of it). */
    private static void accumulate(NDArray param, double[] grad) {
        try (NDArray view = param.reshape(param.getShape());
             NDArray g = Tensors.upload(param.getManager(), grad, param.getShape(), param.getDataType())) {
            JniUtils.backward((PtNDArray) view, (PtNDArray) g, false, false);
        }
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
        return activate(pool, y.mul(scale.reshape(1, c, 1)).add(shift.reshape(1, c, 1)));
    }

    private NDArray conv(NDArray in) {
        return JniUtils.convolution((PtNDArray) in, (PtNDArray) weight, (PtNDArray) bias, new Shape(stride),
                new Shape(padding), new Shape(1), 1);
    }

    /**
     * ReLU and pooling for the recorded (training) forward. Pooling comes first, as a max over the last
     * axis of a [B, C, T/3, 3] view, then ReLU on a third of the samples: max and ReLU commute, and the
     * gradient is the same too (both route it to the window's first maximum, and ReLU passes none where
     * that maximum is not positive). With autograd recording, libtorch's max_pool1d takes its
     * index-tracking 2-d kernel, which measured 1.6x slower than the reduction on the paper preset.
     */
    static NDArray activateRecorded(boolean pool, NDArray x) {
        Shape s = x.getShape();
        long t = s.get(2);
        if (!pool || t % KERNEL != 0) {
            return activate(pool, x);
        }
        try (NDArray windows = x.reshape(s.get(0), s.get(1), t / KERNEL, KERNEL);
             NDArray max = windows.max(new int[] {3})) {
            return JniUtils.relu((PtNDArray) max);
        }
    }

    private static NDArray activate(boolean pool, NDArray x) {
        NDArray r = JniUtils.relu((PtNDArray) x);
        return pool ? JniUtils.maxPool((PtNDArray) r, new Shape(KERNEL), new Shape(KERNEL), new Shape(0), false) : r;
    }
}

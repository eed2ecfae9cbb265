package org.clmr.worker.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
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
     * Training forward of one or more views (each its own batch, with its own statistics): batch statistics
     * from {@code stats}, running statistics updated view after view. The views' local moments come down in
     * one packed array, go to {@code stats} in one call, and their normalisation statistics go up in one
     * array, whatever the number of views. Must run with autograd recording on.
     *
     * @param inputs    [B, Cin, T] per view, in the step's manager
     * @param inputGrad whether to make the inputs gradient-requiring leaves (all but the first segment)
     * @param gammaHost this segment's BN weight as the host holds it (see {@link ClmrNetwork#hostGammas()})
     */
    public Tape[] forwardTrain(NDArray[] inputs, boolean inputGrad, double[] gammaHost, BatchStats stats) {
        int views = inputs.length;
        int c = outChannels;
        NDManager m = inputs[0].getManager();
        NDArray[] in = new NDArray[views];
        NDArray[] y = new NDArray[views];
        NDArray[] value = new NDArray[views];
        long[] count = new long[views];
        NDList packed = new NDList(3 * views);
        for (int v = 0; v < views; v++) {
            in[v] = inputs[v];
            if (inputGrad) {
                in[v] = inputs[v].stopGradient();
                in[v].setRequiresGradient(true);
            }
            y[v] = conv(in[v]);                                            // [B, C, T]
            value[v] = y[v].stopGradient();
            count[v] = value[v].getShape().get(0) * value[v].getShape().get(2);
            packed.addAll(localMoments(m, value[v], count[v]));             // 3 x [C]
        }
        double[] moments;
        try (NDArray all = NDArrays.stack(packed)) {                      // [3 views, C]
            moments = Tensors.download(all);
        }
        packed.close();
        double[] global = stats.reduceMoments(index, local(moments, count));
        DataType type = value[0].getDataType();
        double[][] mean = new double[views][];
        double[][] invStd = new double[views][];
        double[][] gammaInvStd = new double[views][];
        double[] normalisation = new double[views * 2 * c];                // per view: mean as T, var as T
        for (int v = 0; v < views; v++) {
            mean[v] = new double[c];
            invStd[v] = new double[c];
            gammaInvStd[v] = new double[c];
            statistics(global, v * (2 * c + 1), type, gammaHost, mean[v], invStd[v], gammaInvStd[v],
                    normalisation, v * 2 * c);
        }
        Tape[] tapes = new Tape[views];
        try (NDArray stat = Tensors.upload(m, normalisation, new Shape(views, 2, c), type)) {
            for (int v = 0; v < views; v++) {
                tapes[v] = normalise(in[v], inputGrad, y[v], value[v], stat, v, mean[v], gammaInvStd[v], invStd[v],
                        global[v * (2 * c + 1) + 2 * c]);
            }
        }
        return tapes;
    }

    /**
     * Mean, variance (as the tensors' type holds them) and the running statistics' update of one view, from
     * its block of the reduced moments at {@code at}; the order of updates over views is the views' order.
     */
    private void statistics(double[] global, int at, DataType type, double[] g, double[] mean, double[] invStd,
                            double[] gammaInvStd, double[] normalisation, int out) {
        int c = outChannels;
        double n = global[at + 2 * c];
        for (int i = 0; i < c; i++) {
            mean[i] = global[at + i] / n;
            double var = Math.max(global[at + c + i] / n - mean[i] * mean[i], 0);
            double varT = Tensors.round(var, type);
            normalisation[out + i] = Tensors.round(mean[i], type);
            normalisation[out + c + i] = varT;
            float meanF = (float) mean[i];
            float unbiased = (float) (n > 1 ? var * n / (n - 1) : var);
            runningMean[i] = (1 - MOMENTUM) * runningMean[i] + MOMENTUM * meanF;
            runningVar[i] = (1 - MOMENTUM) * runningVar[i] + MOMENTUM * unbiased;
            invStd[i] = 1 / Math.sqrt(varT + (double) EPS);
            gammaInvStd[i] = g[i] * invStd[i];
        }
        batchesTracked++;
    }

    /**
     * Normalisation by PyTorch's fused batch_norm in inference form, fed the (global) statistics of row
     * {@code v} of {@code stat} [views, 2, C]; the gradient w.r.t. those statistics follows from the local BN
     * weight/bias gradients (see backward), which per-view leaf copies of gamma and beta collect separately
     * from the accumulated ones.
     */
    private Tape normalise(NDArray in, boolean inputGrad, NDArray y, NDArray value, NDArray stat, int v,
                           double[] mean, double[] gammaInvStd, double[] invStd, double n) {
        NDManager m = value.getManager();
        NDArray leaf = y.stopGradient();
        leaf.setRequiresGradient(true);
        NDArray gammaLeaf = scoped(gamma.stopGradient(), m);
        gammaLeaf.setRequiresGradient(true);
        NDArray betaLeaf = scoped(beta.stopGradient(), m);
        betaLeaf.setRequiresGradient(true);
        NDArray out;
        // the graph keeps its own references to the statistics it saves
        try (NDArray meanArray = stat.get(v + ", 0");                       // [C]
             NDArray varArray = stat.get(v + ", 1")) {
            out = activateRecorded(pool, JniUtils.batchNorm((PtNDArray) leaf, (PtNDArray) meanArray,
                    (PtNDArray) varArray, (PtNDArray) gammaLeaf, (PtNDArray) betaLeaf, false, MOMENTUM, EPS));
        }
        return new Tape(inputGrad ? in : null, y, value, leaf, gammaLeaf, betaLeaf, mean, gammaInvStd, invStd, n, out);
    }

    /**
     * {@code [sum_c, sumsq_c, count]} per view of the conv output over batch and time, from the packed
     * device moments (per view: sum, centred sum of squares, shift). The sum of squares comes from the local
     * batch centred on its own mean m (|y - m|^2, plus m (2 sum y - n m) in double): a float sum of y^2 would
     * lose the variance to cancellation where |mean| >> std, and the statistics of a split batch would then
     * differ from the whole batch's by far more than rounding.
     */
    private double[] local(double[] moments, long[] count) {
        int c = outChannels;
        double[] local = new double[count.length * (2 * c + 1)];
        for (int v = 0; v < count.length; v++) {
            int in = v * 3 * c;
            int out = v * (2 * c + 1);
            for (int i = 0; i < c; i++) {
                double s1 = moments[in + i];
                double shift = moments[in + 2 * c + i];
                local[out + i] = s1;
                local[out + c + i] = moments[in + c + i] + shift * (2.0 * s1 - count[v] * shift);
            }
            local[out + 2 * c] = count[v];
        }
        return local;
    }

    /**
     * The device part of the moments, three [C] arrays: the sum over batch and time, the sum of squares
     * centred on the shift, and the shift (the local mean as the tensors' type holds it: an element-wise
     * division by a tensor of counts is correctly rounded, so it equals the host's rounding of the double
     * quotient, as the double carries more than twice the float's bits).
     */
    private NDList localMoments(NDManager m, NDArray value, long count) {
        if (count > 1L << 24) {
            throw new IllegalArgumentException("a batch-norm layer sees " + count + " values per channel, more than"
                    + " the 2^24 that its float count holds exactly; lower the share per worker");
        }
        int c = outChannels;
        int[] axes = {0, 2};
        NDArray sum = value.sum(axes);                                       // [C]
        NDArray shift;
        try (NDArray n = m.full(new Shape(c), count, value.getDataType())) {
            shift = sum.div(n);
        }
        NDArray squares;
        // (y - m)^2 squared in place and summed: two cheap passes, where libtorch's norm reduction took 3x
        // as long as both on the paper preset's widest layer
        try (NDArray column = shift.reshape(1, c, 1);
             NDArray centred = value.sub(column)) {
            squares = centred.muli(centred).sum(axes);                       // |y - m|^2 per channel
        }
        return new NDList(sum, squares, shift);
    }

    private static NDArray scoped(NDArray a, NDManager scope) {
        a.attach(scope);
        return a;
    }

    /**
     * Backward through this segment for one or more views, each seeded with the gradient of the loss w.r.t.
     * its output; the tapes are spent afterwards (their conv outputs hold dL/dy). The views' statistic
     * gradients come down in one packed array, go to {@code stats} in one call, and the per-channel terms
     * of dL/dy go up in one array. The BN weight and bias accumulate each view's gradient in the views' order.
     *
     * @return the gradient w.r.t. each view's input (the caller closes them), or nulls for the first segment
     */
    public NDArray[] backward(Tape[] tapes, NDArray[] gradOutputs, BatchStats stats) {
        int views = tapes.length;
        int c = outChannels;
        NDList leafGrads = new NDList(2 * views);
        for (int v = 0; v < views; v++) {
            JniUtils.backward((PtNDArray) tapes[v].output, (PtNDArray) gradOutputs[v], false, false);
            leafGrads.add(tapes[v].gammaLeaf.getGradient());                // sum dL/dbn * xhat, this view only
            leafGrads.add(tapes[v].betaLeaf.getGradient());                 // sum dL/dbn
        }
        double[] d;
        try (NDArray all = NDArrays.stack(leafGrads)) {                   // [2 views, C]
            d = Tensors.download(all);
        }
        for (int v = 0; v < views; v++) {
            accumulate(gamma, leafGrads.get(2 * v));
            accumulate(beta, leafGrads.get(2 * v + 1));
        }
        leafGrads.close();
        // xhat = (y - mean) invstd, so dL/dmean = -gamma invstd sum(dL/dbn) and
        // dL/dvar = -1/2 gamma invstd^2 sum(dL/dbn xhat), with mean and var held as inputs
        double[] local = new double[views * 2 * c];
        for (int v = 0; v < views; v++) {
            Tape t = tapes[v];
            for (int i = 0; i < c; i++) {
                local[v * 2 * c + i] = -t.gammaInvStd[i] * d[(2 * v + 1) * c + i];
                local[v * 2 * c + c + i] = -0.5 * t.gammaInvStd[i] * t.invStd[i] * d[2 * v * c + i];
            }
        }
        double[] global = stats.reduceGradients(index, local);
        // mean = S1/N and var = S2/N - mean^2, so dmean/dy = 1/N and dvar/dy = 2 (y - mean) / N:
        // dL/dy = gy + a + b y with a = (Gmean - 2 mean Gvar) / N and b = 2 Gvar / N, per channel
        double[] terms = new double[views * 2 * c];                          // per view: b, then a
        for (int v = 0; v < views; v++) {
            Tape t = tapes[v];
            for (int i = 0; i < c; i++) {
                double gMean = global[v * 2 * c + i];
                double gVar = global[v * 2 * c + c + i];
                terms[v * 2 * c + i] = 2 * gVar / t.count;
                terms[v * 2 * c + c + i] = (gMean - 2 * t.mean[i] * gVar) / t.count;
            }
        }
        NDManager m = tapes[0].convValue.getManager();
        NDArray[] below = new NDArray[views];
        try (NDArray ab = Tensors.upload(m, terms, new Shape(views, 2, c), tapes[0].convValue.getDataType())) {
            for (int v = 0; v < views; v++) {
                below[v] = convBackward(tapes[v], ab, v);
            }
        }
        return below;
    }

    /**
     * The second stage of one view: dL/dy built in the conv output's own storage (nothing reads y after
     * the first stage; the conv backward needs only its input and weight), so no [B, C, T] array is allocated.
     */
    private NDArray convBackward(Tape t, NDArray ab, int v) {
        int c = outChannels;
        NDArray dy = t.convValue;
        try (NDArray gy = t.convLeaf.getGradient();                           // [B, C, T], = dL/dbn * gamma * invstd
             NDArray b = ab.get(v + ", 0");
             NDArray bColumn = b.reshape(1, c, 1);
             NDArray a = ab.get(v + ", 1");
             NDArray aColumn = a.reshape(1, c, 1)) {
            dy.muli(bColumn).addi(aColumn).addi(gy);
        }
        JniUtils.backward((PtNDArray) t.conv, (PtNDArray) dy, false, false);
        return t.input == null ? null : t.input.getGradient();
    }

    /** Adds a per-channel gradient into a parameter's accumulated gradient (a backward through a view of it). */
    private static void accumulate(NDArray param, NDArray grad) {
        try (NDArray view = param.reshape(param.getShape())) {
            JniUtils.backward((PtNDArray) view, (PtNDArray) grad, false, false);
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

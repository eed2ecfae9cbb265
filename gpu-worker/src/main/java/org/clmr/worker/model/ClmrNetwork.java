package org.clmr.worker.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import org.clmr.data.random.Rng;
import org.clmr.protocol.run.ModelSpec;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * SampleCNN encoder + projection head (the CLMR model) on DJL's PyTorch engine, as explicit segments:
 * stem conv(1 -> stem, k3, s3)+BN+ReLU, one pooled block per entry of the spec's widths, a last
 * conv(k3, pad1)+BN+ReLU, then z = W2 ReLU(W1 h) without biases. Weights are initialised from the run
 * seed with {@link Rng} (He-uniform for convs as the reference implementation, PyTorch's defaults for
 * conv biases and linear layers), so every JVM and device starts from the same bits.
 *
 * <p>Training goes segment by segment, both views through a segment before the next: {@link #forwardTrain}
 * records each segment's own graph and {@link #backward} walks them from the top, seeded with the gradient of
 * the loss w.r.t. z. Parameter gradients accumulate in the parameters' gradient arrays. Owns its NDManager;
 * training thread only.
 */
public final class ClmrNetwork implements AutoCloseable {
    private static final long INIT_STREAM = 0x494E4954L;
    private final ModelSpec spec;
    private final NDManager manager;
    private final List<ConvBnSegment> segments;
    private final NDArray w1;
    private final NDArray w2;

    private ClmrNetwork(ModelSpec spec, NDManager manager, List<ConvBnSegment> segments, NDArray w1, NDArray w2) {
        this.spec = spec;
        this.manager = manager;
        this.segments = segments;
        this.w1 = w1;
        this.w2 = w2;
    }

    /** A freshly initialised network: same (spec, seed), same weights on any JVM and device. */
    public static ClmrNetwork create(ModelSpec spec, long seed, Device device) {
        return create(spec, seed, device, DataType.FLOAT32);
    }

    /**
     * As {@link #create(ModelSpec, long, Device)} with parameters of {@code type}: FLOAT32 for training,
     * FLOAT64 (the same initial values, widened) for gradient checks against finite differences; the
     * training forward and backward follow the parameters' type.
     */
    public static ClmrNetwork create(ModelSpec spec, long seed, Device device, DataType type) {
        spec.validated();
        NDManager manager = NDManager.newBaseManager(device, "PyTorch");
        int[] tensorIndex = {0};
        List<ConvBnSegment> segments = new ArrayList<>();
        List<Integer> widths = spec.blockChannels();
        int in = 1;
        for (int i = 0; i <= widths.size() + 1; i++) {
            boolean stem = i == 0;
            boolean last = i == widths.size() + 1;
            int out = stem ? spec.stemChannels() : last ? in : widths.get(i - 1);
            int fanIn = in * ConvBnSegment.KERNEL;
            NDArray w = param(manager, new Shape(out, in, ConvBnSegment.KERNEL), heUniform(fanIn), seed, tensorIndex, type);
            NDArray b = param(manager, new Shape(out), 1.0 / Math.sqrt(fanIn), seed, tensorIndex, type);
            NDArray g = constant(manager, out, 1f, type);
            NDArray beta = constant(manager, out, 0f, type);
            segments.add(new ConvBnSegment(i, in, out, stem ? 3 : 1, stem ? 0 : 1, !stem && !last, w, b, g, beta));
            in = out;
        }
        int d = spec.encoderDim();
        NDArray w1 = param(manager, new Shape(d, d), 1.0 / Math.sqrt(d), seed, tensorIndex, type);
        NDArray w2 = param(manager, new Shape(spec.projectionDim(), d), 1.0 / Math.sqrt(d), seed, tensorIndex, type);
        return new ClmrNetwork(spec, manager, Collections.unmodifiableList(segments), w1, w2);
    }

    /** kaiming_uniform_(mode="fan_in", nonlinearity="relu"): bound sqrt(2) * sqrt(3 / fan_in). */
    private static double heUniform(int fanIn) {
        return Math.sqrt(6.0 / fanIn);
    }

    private static NDArray param(NDManager m, Shape shape, double bound, long seed, int[] tensorIndex, DataType type) {
        Rng rng = Rng.of(seed, INIT_STREAM, tensorIndex[0]++);
        float[] data = new float[Math.toIntExact(shape.size())];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) rng.uniform(-bound, bound);
        }
        return leaf(Tensors.upload(m, data, shape), type);
    }

    private static NDArray constant(NDManager m, int n, float v, DataType type) {
        float[] data = new float[n];
        java.util.Arrays.fill(data, v);
        return leaf(Tensors.upload(m, data), type);
    }

    private static NDArray leaf(NDArray a, DataType type) {
        NDArray typed = a;
        if (type != DataType.FLOAT32) {
            typed = a.toType(type, true);
            a.close();
        }
        typed.setRequiresGradient(true);
        return typed;
    }

    public ModelSpec spec() {
        return spec;
    }

    /** The manager that owns the parameters (step scopes are its sub-managers). */
    public NDManager manager() {
        return manager;
    }

    public List<ConvBnSegment> segments() {
        return segments;
    }

    /** Every trainable tensor in the fixed order: segments (conv w, b, BN w, b), then the head. */
    public List<Param> params() {
        List<Param> all = new ArrayList<>(encoderParams());
        all.addAll(headParams());
        return all;
    }

    /** The encoder's trainable tensors. */
    public List<Param> encoderParams() {
        List<Param> all = new ArrayList<>();
        for (ConvBnSegment s : segments) {
            all.addAll(s.params());
        }
        return all;
    }

    /** The projection head's two weight matrices, named as SimCLR's {@code projector}. */
    public List<Param> headParams() {
        return List.of(new Param("projector.0.weight", w1), new Param("projector.2.weight", w2));
    }

    /** Sum of the sizes of some params. */
    public static long count(List<Param> params) {
        return params.stream().mapToLong(Param::size).sum();
    }

    /** What one view's training forward keeps for its backward. */
    public static final class ViewTape {
        final List<ConvBnSegment.Tape> tapes;
        final NDArray h;
        /** The projection, [B, projectionDim]. */
        public final NDArray z;

        ViewTape(List<ConvBnSegment.Tape> tapes, NDArray h, NDArray z) {
            this.tapes = tapes;
            this.h = h;
            this.z = z;
        }
    }

    /**
     * Every batch-norm weight as the host holds it, in one transfer: the segments need gamma on the host for
     * the statistics' gradient, and it changes only when the weights do, so a training forward reads it once.
     */
    public double[][] hostGammas() {
        NDList gammas = new NDList(segments.size());
        for (ConvBnSegment s : segments) {
            gammas.add(s.params().get(2).value());
        }
        double[] all;
        try (NDArray packed = NDArrays.concat(gammas)) {
            all = Tensors.download(packed);
        }
        double[][] out = new double[segments.size()][];
        int at = 0;
        for (ConvBnSegment s : segments) {
            out[s.index()] = java.util.Arrays.copyOfRange(all, at, at + s.outChannels());
            at += s.outChannels();
        }
        return out;
    }

    /**
     * Training forward of one view; autograd recording must be on. Its batch norm exchanges one message per
     * layer with {@code stats}; {@link #forwardTrain(List, BatchStats)} takes both views in as many.
     *
     * @param x [B, 1, L] in a step-scoped manager
     */
    public ViewTape forwardTrain(NDArray x, int view, BatchStats stats) {
        return forwardTrain(List.of(x), stats).get(0);
    }

    /**
     * Training forward of several views (each its own batch with its own batch-norm statistics), all of
     * them through a segment before the next: one exchange with {@code stats} per layer for all views. The
     * running statistics see the views in list order at every layer, as they would view after view.
     *
     * @param xs [B, 1, L] per view, in a step-scoped manager
     */
    public List<ViewTape> forwardTrain(List<NDArray> xs, BatchStats stats) {
        int views = xs.size();
        double[][] gammas = hostGammas();
        List<List<ConvBnSegment.Tape>> tapes = new ArrayList<>();
        NDArray[] a = xs.toArray(new NDArray[0]);
        for (int v = 0; v < views; v++) {
            tapes.add(new ArrayList<>(segments.size()));
        }
        for (ConvBnSegment s : segments) {
            ConvBnSegment.Tape[] t = s.forwardTrain(a, s.index() > 0, gammas[s.index()], stats);
            for (int v = 0; v < views; v++) {
                tapes.get(v).add(t[v]);
                a[v] = t[v].output;                                      // [B, C, T/3...]
            }
        }
        List<ViewTape> out = new ArrayList<>(views);
        for (int v = 0; v < views; v++) {
            long batch = a[v].getShape().get(0);
            NDArray h;
            try (NDArray top = a[v].stopGradient()) {
                h = top.reshape(batch, spec.encoderDim());                // [B, D]
            }
            h.setRequiresGradient(true);
            out.add(new ViewTape(tapes.get(v), h, project(h)));
        }
        return out;
    }

    /** Back-propagates dL/dz of one view through the head and every segment, top first; spends the tape. */
    public void backward(ViewTape tape, NDArray gradZ, BatchStats stats) {
        backward(List.of(tape), List.of(gradZ), stats, from -> { });
    }

    /**
     * Back-propagates dL/dz of several views through the head, then through every segment (top first) for
     * all views before the next segment: one exchange with {@code stats} per layer. Every parameter's
     * gradient accumulates the views' contributions in list order. Spends the tapes.
     *
     * @param finalFrom told, after the head and after each segment, the index (in {@link #params()} order)
     *                  from which on every parameter's gradient is final
     */
    public void backward(List<ViewTape> tapes, List<NDArray> gradZ, BatchStats stats, IntConsumer finalFrom) {
        int views = tapes.size();
        NDArray[] g = new NDArray[views];
        for (int v = 0; v < views; v++) {
            JniUtils.backward((PtNDArray) tapes.get(v).z, (PtNDArray) gradZ.get(v), false, false);
        }
        finalFrom.accept(params().size() - headParams().size());
        for (int v = 0; v < views; v++) {
            try (NDArray gh = tapes.get(v).h.getGradient()) {
                g[v] = gh.reshape(gh.getShape().get(0), gh.getShape().get(1), 1);  // [B, D, 1]
            }
        }
        for (int i = segments.size() - 1; i >= 0; i--) {
            ConvBnSegment.Tape[] t = new ConvBnSegment.Tape[views];
            for (int v = 0; v < views; v++) {
                t[v] = tapes.get(v).tapes.get(i);
            }
            NDArray[] below = segments.get(i).backward(t, g, stats);
            for (int v = 0; v < views; v++) {
                g[v].close();
                g[v] = below[v];
            }
            finalFrom.accept(i * segments.get(i).params().size());
        }
    }

    /**
     * The ordinary alternative to {@link #forwardTrain}: one autograd graph through PyTorch's own
     * {@code batch_norm} in training mode (local batch statistics; running statistics go to throw-away
     * arrays). For the segmentation's tests and its overhead benchmark; a backward seeded on the returned
     * z accumulates the same parameter gradients as the segmented pass.
     *
     * @param x [B, 1, L] in a step-scoped manager; autograd recording on
     * @return z, [B, projectionDim]
     */
    public NDArray forwardWholeGraph(NDArray x) {
        NDManager m = x.getManager();
        NDArray a = x;
        for (ConvBnSegment s : segments) {
            List<Param> p = s.params();
            NDArray y = JniUtils.convolution((PtNDArray) a, (PtNDArray) p.get(0).value(), (PtNDArray) p.get(1).value(),
                    new Shape(s.index() == 0 ? 3 : 1), new Shape(s.index() == 0 ? 0 : 1), new Shape(1), 1);
            NDArray bn = JniUtils.batchNorm((PtNDArray) y, (PtNDArray) m.zeros(new Shape(s.outChannels())),
                    (PtNDArray) m.ones(new Shape(s.outChannels())), (PtNDArray) p.get(2).value(),
                    (PtNDArray) p.get(3).value(), true, ConvBnSegment.MOMENTUM, ConvBnSegment.EPS);
            a = ConvBnSegment.activateRecorded(s.pooled(), bn);    // the segments' ReLU and pooling kernels
        }
        return project(a.reshape(a.getShape().get(0), spec.encoderDim()));
    }

    /** Inference: h = encoder(x) with running statistics, [B, D]. */
    public NDArray encode(NDArray x) {
        NDArray a = x;
        for (ConvBnSegment s : segments) {
            a = s.forwardEval(a);
        }
        return a.reshape(a.getShape().get(0), spec.encoderDim());
    }

    /** z = W2 ReLU(W1 h), [B, projectionDim]. */
    public NDArray project(NDArray h) {
        PtNDArray hidden = JniUtils.relu(JniUtils.linear((PtNDArray) h, (PtNDArray) w1, null));
        return JniUtils.linear(hidden, (PtNDArray) w2, null);
    }

    /**
     * SHA-256 (hex) of every parameter and batch-norm buffer in the fixed order (name, shape and
     * little-endian float bits): equal fingerprints mean bit-identical models.
     */
    public String fingerprint() {
        List<Param> all = params();
        float[] weights = weights(all);
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            int at = 0;
            for (Param p : all) {
                int n = Math.toIntExact(p.size());
                update(md, p.name(), p.value().getShape().getShape(), java.util.Arrays.copyOfRange(weights, at, at + n));
                at += n;
            }
            for (ConvBnSegment s : segments) {
                update(md, s.prefix() + ".1.running_mean", new long[] {s.outChannels()}, s.runningMean());
                update(md, s.prefix() + ".1.running_var", new long[] {s.outChannels()}, s.runningVar());
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from this JVM", e);
        }
    }

    /** Every parameter's values, concatenated in {@code params} order: one transfer. */
    public static float[] weights(List<Param> params) {
        NDList flat = new NDList(params.size());
        try {
            for (Param p : params) {
                flat.add(p.value().reshape(-1));
            }
            try (NDArray packed = NDArrays.concat(flat)) {
                return Tensors.downloadFloats(packed);
            }
        } finally {
            flat.close();
        }
    }

    private static void update(MessageDigest md, String name, long[] shape, float[] data) {
        md.update(name.getBytes(StandardCharsets.UTF_8));
        ByteBuffer b = ByteBuffer.allocate(8 * shape.length + 4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long d : shape) {
            b.putLong(d);
        }
        b.asFloatBuffer().put(data);
        md.update(b.array());
    }

    @Override
    public void close() {
        manager.close();
    }
}

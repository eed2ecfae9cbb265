package org.clmr.worker.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.jni.JniUtils;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The one way between host arrays and tensors: every copy in either direction goes through here, takes
 * the same path on every device, and is counted per thread ({@link #count()}).
 *
 * <p>Why not DJL's own calls. On a GPU, {@code toFloatArray()} goes through {@code toDevice(cpu)}, which
 * attaches the host copy to a new sub-manager of the array's manager and never closes it: for a parameter
 * (owned by the network's manager) that leaks a copy and a manager per call for the life of the network.
 * On the CPU the same call returns the array itself, so no CPU test could see the leak. Here a copy is
 * always a real one: a tensor wrapping this thread's staging buffer (a 64-byte aligned direct buffer, reused)
 * on the host side, a PyTorch-allocated tensor on the device side, and {@code copy_} between them with
 * autograd off; the host-side wrapper is closed before the call returns and nothing is attached anywhere
 * else, so a leak on a GPU is a leak on the CPU too. Uploads land in PyTorch's own (aligned) memory: DJL's
 * {@code create} wraps a Java buffer whose alignment varies, and PyTorch's vectorised CPU kernels may round
 * differently on it, which broke bit-exact resume.
 *
 * <p>Call from any thread; the staging buffer and the counters are the calling thread's.
 */
public final class Tensors {
    private static final int ALIGN = 64;
    private static final ThreadLocal<Staging> STAGING = ThreadLocal.withInitial(Staging::new);

    private Tensors() {
    }

    /**
     * Transfers between host and device made by one thread.
     *
     * @param transfers copies, uploads and downloads together
     * @param bytes     bytes they moved
     */
    public record Count(long transfers, long bytes) {
        /** What was moved after {@code earlier} (a count of the same thread). */
        public Count since(Count earlier) {
            return new Count(transfers - earlier.transfers, bytes - earlier.bytes);
        }
    }

    /** The calling thread's transfers so far. */
    public static Count count() {
        Staging s = STAGING.get();
        return new Count(s.transfers, s.bytes);
    }

    /** A tensor of {@code shape} holding {@code data}, in {@code manager} (on its device). */
    public static NDArray upload(NDManager manager, float[] data, Shape shape) {
        checkSize(data.length, shape);
        ByteBuffer b = STAGING.get().bytes(4L * data.length);
        b.asFloatBuffer().put(data);
        return toDevice(manager, b, shape, DataType.FLOAT32);
    }

    /** A 1-d tensor holding {@code data}. */
    public static NDArray upload(NDManager manager, float[] data) {
        return upload(manager, data, new Shape(data.length));
    }

    /**
     * A tensor of {@code type} (FLOAT32 or FLOAT64) holding {@code data}: rounded to float for FLOAT32
     * (then exactly {@link #upload(NDManager, float[], Shape)} of the rounded values).
     */
    public static NDArray upload(NDManager manager, double[] data, Shape shape, DataType type) {
        checkSize(data.length, shape);
        if (type == DataType.FLOAT32) {
            ByteBuffer b = STAGING.get().bytes(4L * data.length);
            for (int i = 0; i < data.length; i++) {
                b.putFloat(4 * i, (float) data[i]);
            }
            return toDevice(manager, b, shape, type);
        }
        if (type != DataType.FLOAT64) {
            throw new IllegalArgumentException("tensors of the model are FLOAT32 or FLOAT64, not " + type);
        }
        ByteBuffer b = STAGING.get().bytes(8L * data.length);
        b.asDoubleBuffer().put(data);
        return toDevice(manager, b, shape, type);
    }

    /**
     * Several equally shaped arrays in one transfer: one tensor [K, stride] whose rows start at multiples
     * of 64 bytes, returned as K views of {@code each} (so each view is as aligned as a tensor of its own).
     */
    public static List<NDArray> uploadRows(NDManager manager, List<float[]> rows, Shape each) {
        int n = Math.toIntExact(each.size());
        int stride = (n + ALIGN / 4 - 1) / (ALIGN / 4) * (ALIGN / 4);
        ByteBuffer b = STAGING.get().bytes(4L * stride * rows.size());
        for (int k = 0; k < rows.size(); k++) {
            checkSize(rows.get(k).length, each);
            b.position(4 * k * stride);
            b.asFloatBuffer().put(rows.get(k));
        }
        b.position(0);
        NDArray packed = toDevice(manager, b, new Shape(rows.size(), stride), DataType.FLOAT32);
        List<NDArray> views = new ArrayList<>(rows.size());
        for (int k = 0; k < rows.size(); k++) {
            try (NDArray row = packed.get(new NDIndex(k + ", 0:" + n))) {
                views.add(row.reshape(each));
            }
        }
        return views;
    }

    /**
     * Overwrites {@code target}'s values in place: its PyTorch-owned storage, and gradient tracking, stay as
     * they are. Not {@code target.set(Buffer)}: on the CPU that re-points the tensor's storage at a Java direct
     * buffer (unaligned, and freed with the Java object while a view or the autograd graph may still use it).
     * A copy, not {@code target * 0 + data}: a target holding NaN or infinity must come out clean.
     */
    public static void overwrite(NDArray target, float[] data) {
        if (target.getDataType() != DataType.FLOAT32) {
            try (NDArray staged = upload(target.getManager(), data, target.getShape())) {
                copy((PtNDArray) target, (PtNDArray) staged);
            }
            return;
        }
        checkSize(data.length, target.getShape());
        ByteBuffer b = STAGING.get().bytes(4L * data.length);
        b.asFloatBuffer().put(data);
        PtNDArray t = (PtNDArray) target;
        try (PtNDArray host = hostView(t.getManager(), b, t.getShape(), DataType.FLOAT32)) {
            copy(t, host);
        }
        counted(4L * data.length);
    }

    /** A FLOAT32 tensor's values (any other type is converted on its device first). */
    public static float[] downloadFloats(NDArray a) {
        if (a.getDataType() != DataType.FLOAT32) {
            try (NDArray f = a.toType(DataType.FLOAT32, true)) {
                return downloadFloats(f);
            }
        }
        float[] out = new float[Math.toIntExact(a.size())];
        toHost((PtNDArray) a).asFloatBuffer().get(out);
        return out;
    }

    /** A FLOAT32 or FLOAT64 tensor's values, widened to double. */
    public static double[] download(NDArray a) {
        double[] out = new double[Math.toIntExact(a.size())];
        if (a.getDataType() == DataType.FLOAT64) {
            toHost((PtNDArray) a).asDoubleBuffer().get(out);
            return out;
        }
        float[] f = downloadFloats(a);
        for (int i = 0; i < f.length; i++) {
            out[i] = f[i];
        }
        return out;
    }

    /** {@code v} as a value of {@code type} would hold it (rounded to float for FLOAT32). */
    public static double round(double v, DataType type) {
        return type == DataType.FLOAT32 ? (float) v : v;
    }

    private static NDArray toDevice(NDManager manager, ByteBuffer staged, Shape shape, DataType type) {
        PtNDManager m = (PtNDManager) manager;
        PtNDArray device = JniUtils.createEmptyNdArray(m, shape, type, m.getDevice(), SparseFormat.DENSE);
        try (PtNDArray host = hostView(m, staged, shape, type)) {
            copy(device, host);
        } catch (RuntimeException e) {
            device.close();
            throw e;
        }
        counted(shape.size() * type.getNumOfBytes());
        return device;
    }

    /** Copies {@code a} into this thread's staging buffer, returned from position 0 in native order. */
    private static ByteBuffer toHost(PtNDArray a) {
        long bytes = a.size() * a.getDataType().getNumOfBytes();
        ByteBuffer b = STAGING.get().bytes(bytes);
        try (PtNDArray host = hostView(a.getManager(), b, a.getShape(), a.getDataType())) {
            copy(host, a);
        }
        counted(bytes);
        return b;
    }

    /**
     * A CPU tensor over the staging buffer (no copy, no allocation); the caller closes it before the buffer
     * is used again. It is attached to {@code manager} only for the instant it lives.
     */
    private static PtNDArray hostView(PtNDManager manager, ByteBuffer staged, Shape shape, DataType type) {
        return JniUtils.createNdFromByteBuffer(manager, staged, shape, type, SparseFormat.DENSE, Device.cpu());
    }

    /** {@code dst[...] = src}, across devices, recording no autograd graph (a leaf may be either side). */
    private static void copy(PtNDArray dst, PtNDArray src) {
        if (dst.getShape().dimension() == 0) {
            // index_put_ takes no empty index list: a scalar goes as a view of one element
            try (PtNDArray d = (PtNDArray) dst.reshape(1); PtNDArray s = (PtNDArray) src.reshape(1)) {
                copy(d, s);
            }
            return;
        }
        boolean recording = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            long[] dims = dst.getShape().getShape();
            long[] from = new long[dims.length];
            long[] step = new long[dims.length];
            java.util.Arrays.fill(step, 1);
            JniUtils.indexSet(dst, src, from, dims, step);
        } finally {
            JniUtils.setGradMode(recording);
        }
    }

    private static void counted(long bytes) {
        Staging s = STAGING.get();
        s.transfers++;
        s.bytes += bytes;
    }

    private static void checkSize(int length, Shape shape) {
        if (length != shape.size()) {
            throw new IllegalArgumentException(length + " values do not fill a tensor of shape " + shape);
        }
    }

    /** One thread's staging buffer (grown to the largest transfer, kept) and transfer counters. */
    private static final class Staging {
        private ByteBuffer buffer = ByteBuffer.allocateDirect(0);
        private long transfers;
        private long bytes;

        /** The buffer, at least {@code n} bytes, from position 0, native order; its contents are undefined. */
        ByteBuffer bytes(long n) {
            if (n > Integer.MAX_VALUE - 2 * ALIGN) {
                throw new IllegalArgumentException("a transfer of " + n + " bytes is larger than one host buffer");
            }
            if (buffer.capacity() < n) {
                long grown = Math.max(n, Math.min(2L * buffer.capacity(), Integer.MAX_VALUE - 2 * ALIGN));
                int size = (int) ((grown + ALIGN - 1) / ALIGN * ALIGN);
                // an aligned slice's capacity is rounded down to the alignment: one spare alignment keeps size
                buffer = ByteBuffer.allocateDirect(size + ALIGN).alignedSlice(ALIGN);
            }
            ByteBuffer b = buffer.duplicate().order(ByteOrder.nativeOrder());
            b.clear();
            return b;
        }
    }
}

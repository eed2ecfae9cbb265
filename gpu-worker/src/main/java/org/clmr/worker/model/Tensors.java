package org.clmr.worker.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Host-to-tensor copies that land in PyTorch's own (64-byte aligned) memory. DJL's {@code create} wraps a
 * Java direct buffer whose alignment varies from call to call, and PyTorch's vectorised CPU kernels may
 * then round differently: that broke bit-exact resume, so every host array goes through here.
 */
public final class Tensors {
    private static final NDIndex ALL = new NDIndex("...");

    private Tensors() {
    }

    /** A tensor of {@code shape} holding {@code data}, in {@code manager}, in PyTorch-allocated memory. */
    public static NDArray upload(NDManager manager, float[] data, Shape shape) {
        try (NDArray raw = manager.create(data, shape)) {
            return raw.duplicate();
        }
    }

    /** A 1-d tensor holding {@code data}. */
    public static NDArray upload(NDManager manager, float[] data) {
        return upload(manager, data, new Shape(data.length));
    }

    /**
     * Overwrites {@code target}'s values in place: its PyTorch-owned storage, and gradient tracking, stay as
     * they are. Not {@code target.set(Buffer)}: on the CPU that re-points the tensor's storage at a Java direct
     * buffer (unaligned, and freed with the Java object while a view or the autograd graph may still use it).
     * A copy, not {@code target * 0 + data}: a target holding NaN or infinity must come out clean.
     */
    public static void overwrite(NDArray target, float[] data) {
        boolean recording = JniUtils.isGradMode();
        JniUtils.setGradMode(false);  // an in-place copy into a leaf that requires a gradient is not a graph op
        try (NDArray staged = upload(target.getManager(), data, target.getShape())) {
            target.set(ALL, staged);
        } finally {
            JniUtils.setGradMode(recording);
        }
    }

    /**
     * A tensor of {@code type} (FLOAT32 or FLOAT64) holding {@code data}: rounded to float for FLOAT32
     * (then exactly {@link #upload(NDManager, float[], Shape)} of the rounded values).
     */
    public static NDArray upload(NDManager manager, double[] data, Shape shape, DataType type) {
        if (type == DataType.FLOAT32) {
            float[] f = new float[data.length];
            for (int i = 0; i < f.length; i++) {
                f[i] = (float) data[i];
            }
            return upload(manager, f, shape);
        }
        if (type != DataType.FLOAT64) {
            throw new IllegalArgumentException("tensors of the model are FLOAT32 or FLOAT64, not " + type);
        }
        try (NDArray raw = manager.create(data, shape)) {
            return raw.duplicate();
        }
    }

    /** A FLOAT32 or FLOAT64 tensor's values, widened to double. */
    public static double[] download(NDArray a) {
        if (a.getDataType() == DataType.FLOAT64) {
            return a.toDoubleArray();
        }
        float[] f = a.toFloatArray();
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    /** {@code v} as a value of {@code type} would hold it (rounded to float for FLOAT32). */
    public static double round(double v, DataType type) {
        return type == DataType.FLOAT32 ? (float) v : v;
    }
}

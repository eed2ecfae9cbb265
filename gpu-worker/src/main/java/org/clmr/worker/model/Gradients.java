package org.clmr.worker.model;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

import java.util.List;

/**
 * The parameters' accumulated gradients: as one flat host vector in the params' fixed order (what a
 * distributed step all-reduces, summed across workers in rank order, before the optimizer's update),
 * checked for NaN and infinity, and zeroed. Training thread only.
 */
public final class Gradients {
    private Gradients() {
    }

    /** Total elements of all params. */
    public static int size(List<Param> params) {
        return Math.toIntExact(ClmrNetwork.count(params));
    }

    /** Every param's gradient, concatenated. */
    public static float[] flatten(List<Param> params) {
        float[] out = new float[size(params)];
        int offset = 0;
        for (Param p : params) {
            try (NDArray g = p.value().getGradient()) {
                float[] v = g.toFloatArray();
                System.arraycopy(v, 0, out, offset, v.length);
                offset += v.length;
            }
        }
        return out;
    }

    /** The name of the first parameter whose gradient holds NaN or infinity, or null. */
    public static String firstNonFinite(List<Param> params) {
        for (Param p : params) {
            try (NDArray g = p.value().getGradient(); NDArray s = g.sum()) {
                if (!Float.isFinite(s.getFloat())) {
                    return p.name();
                }
            }
        }
        return null;
    }

    /** Sets every parameter's gradient to zero (also when it holds NaN or infinity). */
    public static void zero(List<Param> params) {
        for (Param p : params) {
            JniUtils.zeroGrad((PtNDArray) p.value());
        }
    }

    /** Replaces every param's gradient, in place, by its slice of {@code flat} (inverse of {@link #flatten}). */
    public static void overwrite(List<Param> params, float[] flat) {
        if (flat.length != size(params)) {
            throw new IllegalArgumentException("gradient vector has " + flat.length + " values, the params " + size(params));
        }
        int offset = 0;
        for (Param p : params) {
            int n = Math.toIntExact(p.size());
            float[] slice = java.util.Arrays.copyOfRange(flat, offset, offset + n);
            offset += n;
            JniUtils.zeroGrad((PtNDArray) p.value());
            // the gradient may not exist yet: a backward pass through a view defines (or adds to the zeroed) one
            boolean recording = JniUtils.isGradMode();
            JniUtils.setGradMode(true);
            try (NDArray src = Tensors.upload(p.value().getManager(), slice, p.value().getShape());
                 NDArray view = p.value().reshape(p.value().getShape())) {
                JniUtils.backward((PtNDArray) view, (PtNDArray) src, false, false);
            } finally {
                JniUtils.setGradMode(recording);
            }
        }
    }
}

package org.clmr.worker.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

import java.util.List;

/**
 * The parameters' accumulated gradients: as one flat host vector in the params' fixed order (what a
 * distributed step all-reduces, summed across workers in rank order, before the optimizer's update), or a
 * contiguous run of it (a gradient bucket); checked for NaN and infinity; zeroed. Every host copy is one
 * packed transfer through {@link Tensors}. Training thread only.
 */
public final class Gradients {
    private Gradients() {
    }

    /** Total elements of all params. */
    public static int size(List<Param> params) {
        return Math.toIntExact(ClmrNetwork.count(params));
    }

    /** Every param's gradient, concatenated (one transfer). */
    public static float[] flatten(List<Param> params) {
        float[] out = new float[size(params)];
        download(params, 0, params.size(), out, 0);
        return out;
    }

    /**
     * The gradients of params {@code [from, to)}, concatenated, into {@code out} at {@code at}: one transfer.
     */
    public static void download(List<Param> params, int from, int to, float[] out, int at) {
        NDList flat = new NDList(to - from);
        try {
            for (Param p : params.subList(from, to)) {
                try (NDArray g = p.value().getGradient()) {
                    flat.add(g.reshape(-1));
                }
            }
            try (NDArray packed = NDArrays.concat(flat)) {
                float[] values = Tensors.downloadFloats(packed);
                System.arraycopy(values, 0, out, at, values.length);
            }
        } finally {
            flat.close();
        }
    }

    /**
     * The name of the first parameter whose gradient's sum is NaN or infinite, or null: every sum in one
     * transfer.
     */
    public static String firstNonFinite(List<Param> params) {
        NDList sums = new NDList(params.size());
        float[] s;
        try {
            for (Param p : params) {
                try (NDArray g = p.value().getGradient()) {
                    sums.add(g.sum());
                }
            }
            try (NDArray packed = NDArrays.stack(sums)) {
                s = Tensors.downloadFloats(packed);
            }
        } finally {
            sums.close();
        }
        for (int i = 0; i < s.length; i++) {
            if (!Float.isFinite(s[i])) {
                return params.get(i).name();
            }
        }
        return null;
    }

    /** The name of the parameter holding element {@code element} of the flat vector. */
    public static String nameAt(List<Param> params, long element) {
        long at = 0;
        for (Param p : params) {
            at += p.size();
            if (element < at) {
                return p.name();
            }
        }
        throw new IllegalArgumentException("element " + element + " is past the params' " + at + " values");
    }

    /** Sets every parameter's gradient to zero (also when it holds NaN or infinity). */
    public static void zero(List<Param> params) {
        for (Param p : params) {
            JniUtils.zeroGrad((PtNDArray) p.value());
        }
    }

    /**
     * Replaces every param's gradient, in place, by its slice of {@code flat} (inverse of {@link #flatten}):
     * one transfer, then the slices are handed out on the device.
     */
    public static void overwrite(List<Param> params, float[] flat) {
        if (flat.length != size(params)) {
            throw new IllegalArgumentException("gradient vector has " + flat.length + " values, the params " + size(params));
        }
        NDManager owner = params.get(0).value().getManager();
        boolean recording = JniUtils.isGradMode();
        // the gradient may not exist yet: a backward pass through a view defines (or adds to the zeroed) one
        JniUtils.setGradMode(true);
        try (NDManager scope = owner.newSubManager();
             NDArray all = Tensors.upload(scope, flat)) {
            long offset = 0;
            for (Param p : params) {
                NDArray value = p.value();
                long n = p.size();
                JniUtils.zeroGrad((PtNDArray) value);
                try (NDArray slice = all.get(offset + ":" + (offset + n));
                     NDArray src = slice.reshape(value.getShape());
                     NDArray view = value.reshape(value.getShape())) {
                    JniUtils.backward((PtNDArray) view, (PtNDArray) src, false, false);
                }
                offset += n;
            }
        } finally {
            JniUtils.setGradMode(recording);
        }
    }
}

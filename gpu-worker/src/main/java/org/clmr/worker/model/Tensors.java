package org.clmr.worker.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Host-to-tensor copies that land in PyTorch's own (64-byte aligned) memory. DJL's {@code create} wraps a
 * Java direct buffer whose alignment varies from call to call, and PyTorch's vectorised CPU kernels may
 * then round differently: that broke bit-exact resume, so every host array goes through here.
 */
public final class Tensors {
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

    /** Overwrites {@code target}'s values in place (its storage, and gradient tracking, stay as they are). */
    public static void overwrite(NDArray target, float[] data) {
        try (NDArray src = upload(target.getManager(), data, target.getShape())) {
            target.muli(0).addi(src);
        }
    }
}

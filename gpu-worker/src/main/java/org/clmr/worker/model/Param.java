package org.clmr.worker.model;

import ai.djl.ndarray.NDArray;

/**
 * One trainable tensor and its name in the reference implementation's state dict
 * (e.g. {@code sequential.3.0.weight}; the head's {@code projector.0.weight}).
 *
 * @param name  reference name
 * @param value the leaf array (requires a gradient), owned by the network's manager
 */
public record Param(String name, NDArray value) {

    /** Elements in this tensor. */
    public long size() {
        return value.getShape().size();
    }
}

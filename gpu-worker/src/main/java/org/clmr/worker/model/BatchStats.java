package org.clmr.worker.model;

/**
 * Where the batch-norm layers of the segmented encoder combine their per-channel statistics. A single
 * process uses {@link #LOCAL} (its statistics are already global); a distributed step all-reduces both
 * calls across workers (the same calls in the same order on every rank), which makes the forward pass use
 * the global batch's mean and variance and the backward pass the exact gradient of the global loss. A call
 * carries one block per view that went through the layer together (one or two), in the views' order: one
 * message per layer and pass, whatever the number of views. Called from the training thread only.
 */
public interface BatchStats {

    /** The identity: the local batch is the whole batch. */
    BatchStats LOCAL = new BatchStats() {
        @Override
        public double[] reduceMoments(int layer, double[] local) {
            return local;
        }

        @Override
        public double[] reduceGradients(int layer, double[] local) {
            return local;
        }
    };

    /**
     * Sums per-channel moments over the global batch.
     *
     * @param layer the batch-norm layer's index (= segment index)
     * @param local per view {@code [sum_0..sum_{C-1}, sumsq_0..sumsq_{C-1}, count]}: sums of the conv output
     *              over batch and time, and the number of values per channel
     * @return the same layout summed over all workers (may be {@code local} itself)
     */
    double[] reduceMoments(int layer, double[] local);

    /**
     * Sums the gradient of the loss with respect to the batch statistics over all workers.
     *
     * @param local per view {@code [dL/dmean_0..dL/dmean_{C-1}, dL/dvar_0..dL/dvar_{C-1}]} of this worker's graph
     * @return the same layout summed over all workers (may be {@code local} itself)
     */
    double[] reduceGradients(int layer, double[] local);
}

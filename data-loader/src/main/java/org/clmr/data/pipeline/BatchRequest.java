package org.clmr.data.pipeline;

import org.clmr.protocol.run.Shares;

/**
 * One worker's part of one training step: the slice [offsetInBatch, offsetInBatch + share) of step
 * {@code step} of epoch {@code epoch}. Value object: two equal requests name the same batch.
 *
 * @param epoch         0-based epoch
 * @param step          0-based step within the epoch
 * @param offsetInBatch where the slice starts in the global batch (sum of the lower ranks' shares)
 * @param share         tracks in the slice
 */
public record BatchRequest(int epoch, int step, int offsetInBatch, int share) {

    public BatchRequest {
        if (epoch < 0 || step < 0 || offsetInBatch < 0 || share < 1) {
            throw new IllegalArgumentException("bad batch request: epoch " + epoch + ", step " + step
                    + ", offset " + offsetInBatch + ", share " + share);
        }
    }

    /** Rank {@code rank}'s request for (epoch, step) given every rank's share. */
    public static BatchRequest of(int epoch, int step, int[] shares, int rank) {
        return new BatchRequest(epoch, step, Shares.offset(shares, rank), shares[rank]);
    }
}

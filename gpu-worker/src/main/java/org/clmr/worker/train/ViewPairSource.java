package org.clmr.worker.train;

import org.clmr.worker.step.ViewPairs;

/**
 * Where the training loop gets its batches: for (epoch, step within the epoch) the B first views and B
 * second views of the tracks at positions [kB, (k+1)B) of that epoch's permutation, or a rank's slice of
 * them. A batch must be a function of (run seed, epoch, step) and of {@link #dataKey()} alone, so a
 * resumed run sees exactly the batches the uninterrupted one saw, whoever computes which slice.
 * Called from the training thread.
 */
public interface ViewPairSource extends AutoCloseable {

    /** Tracks per batch (B). */
    int batchSize();

    /** Samples per view. */
    int cropLength();

    /** Batches per epoch (the remainder of the permutation is dropped, as the reference drops the last batch). */
    long stepsPerEpoch();

    /**
     * What, besides the RunSpec, decides this source's batches (a dataset's content hash and the data
     * settings that change its items; never a path): one line, part of a checkpoint's config hash.
     */
    String dataKey();

    /** The batch of step {@code step} of epoch {@code epoch}. */
    ViewPairs batch(int epoch, long step);

    /**
     * Pairs [offset, offset + count) of the batch of step {@code step} of epoch {@code epoch}: a rank's
     * share. Sources that can assemble a slice alone override this.
     */
    default ViewPairs slice(int epoch, long step, int offset, int count) {
        ViewPairs all = batch(epoch, step);
        return offset == 0 && count == all.batch() ? all : all.slice(offset, count);
    }

    @Override
    default void close() {
    }
}

package org.clmr.worker.train;

import org.clmr.worker.step.ViewPairs;

/**
 * Where the trainer gets its batches: for (epoch, step within the epoch) the B first views and B second
 * views of the tracks at positions [kB, (k+1)B) of that epoch's permutation. A batch must be a function
 * of (run seed, epoch, step) alone, so a resumed run sees exactly the batches the uninterrupted one saw.
 * Called from the training thread.
 */
public interface ViewPairSource extends AutoCloseable {

    /** Tracks per batch (B). */
    int batchSize();

    /** Samples per view. */
    int cropLength();

    /** Batches per epoch (the remainder of the permutation is dropped, as the reference drops the last batch). */
    long stepsPerEpoch();

    /** The batch of step {@code step} of epoch {@code epoch}. */
    ViewPairs batch(int epoch, long step);

    @Override
    default void close() {
    }
}

package org.clmr.worker.step;

/**
 * B view pairs: a rank's share of a step's batch.
 *
 * @param batch  B
 * @param length samples per view
 * @param first  first views, [B, length] row-major
 * @param second second views, same tracks in the same order
 */
public record ViewPairs(int batch, int length, float[] first, float[] second) {
}

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

    /** Pairs [offset, offset + count) of these, copied. */
    public ViewPairs slice(int offset, int count) {
        if (offset < 0 || count < 1 || offset + count > batch) {
            throw new IllegalArgumentException("pairs [" + offset + ", " + (offset + count) + ") of a batch of "
                    + batch);
        }
        int from = offset * length;
        int to = (offset + count) * length;
        return new ViewPairs(count, length, java.util.Arrays.copyOfRange(first, from, to),
                java.util.Arrays.copyOfRange(second, from, to));
    }
}

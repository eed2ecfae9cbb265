package org.clmr.worker.collective;

/**
 * Collective operations among the ranks of one generation. Every rank calls the same operations in the
 * same order with the same {@link OpTag}s. Results are identical on every rank, bit for bit: sums are
 * taken in rank order. Every call has a deadline and throws {@link CollectiveTimeoutException} naming
 * the silent ranks rather than hanging. Called from the training thread only.
 */
public interface Collective extends AutoCloseable {

    /** This process's rank in [0, worldSize). */
    int rank();

    /** Number of ranks in this generation. */
    int worldSize();

    /** Element-wise sum over ranks of {@code data[offset, offset + length)}, in place. */
    void allReduceSum(OpTag tag, float[] data, int offset, int length);

    /** Element-wise sum over ranks, in place, in double precision (batch-norm statistics). */
    void allReduceSum(OpTag tag, double[] data);

    /**
     * Concatenation of every rank's {@code local} in rank order; rank r contributes {@code counts[r]}
     * elements and {@code local.length == counts[rank()]}.
     */
    float[] allGather(OpTag tag, float[] local, int[] counts);

    /**
     * Element-wise sum over ranks of {@code data} (length = sum of counts), of which this rank receives
     * its own segment: elements [sum(counts[0..rank)), + counts[rank]).
     */
    float[] reduceScatterSum(OpTag tag, float[] data, int[] counts);

    /** Rank {@code root}'s bytes on every rank; {@code data} is ignored on the others (may be null). */
    byte[] broadcast(OpTag tag, byte[] data, int root);

    /** Releases the transport's resources. */
    @Override
    void close();
}

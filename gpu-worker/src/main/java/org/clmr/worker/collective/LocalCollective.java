package org.clmr.worker.collective;

/**
 * The collective of a generation with one rank: every operation is the identity (copies where the
 * contract returns a new array). Checks its arguments exactly as {@link AeronCollective} does, so code
 * tested against it also holds with more ranks.
 */
public final class LocalCollective implements Collective {
    private final long generation;
    private final TagOrder order = new TagOrder();

    /** A world of one in {@code generation}. */
    public LocalCollective(long generation) {
        this.generation = generation;
    }

    @Override
    public int rank() {
        return 0;
    }

    @Override
    public int worldSize() {
        return 1;
    }

    @Override
    public void allReduceSum(OpTag tag, float[] data, int offset, int length) {
        order.next(generation, tag);
        Args.checkRange(data.length, offset, length);
    }

    @Override
    public void allReduceSum(OpTag tag, double[] data) {
        order.next(generation, tag);
    }

    @Override
    public float[] allGather(OpTag tag, float[] local, int[] counts) {
        order.next(generation, tag);
        Args.checkCounts(counts, 1, 0, local.length);
        return local.clone();
    }

    @Override
    public float[] reduceScatterSum(OpTag tag, float[] data, int[] counts) {
        order.next(generation, tag);
        Args.checkCounts(counts, 1, -1, data.length);
        return data.clone();
    }

    @Override
    public byte[] broadcast(OpTag tag, byte[] data, int root) {
        order.next(generation, tag);
        if (root != 0 || data == null) {
            throw new IllegalArgumentException("broadcast root must be 0 with data in a world of one, got root " + root
                    + (data == null ? " and null data" : ""));
        }
        return data.clone();
    }

    @Override
    public void close() {
    }
}

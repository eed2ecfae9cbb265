package org.clmr.worker.step;

import org.clmr.worker.collective.Collective;
import org.clmr.worker.collective.OpTag;
import org.clmr.worker.model.BatchStats;

/**
 * One training step's view of the {@link Collective}: tags every operation (generation, step, next
 * sequence number), so all ranks issue the same tags as long as they issue the same operations in the
 * same order, and adds up the time spent inside the collective (the step's communication phase, which
 * includes waiting for the slowest rank). As {@link BatchStats} it makes the segmented encoder's batch
 * norm synchronised: moments and statistic gradients are summed over all ranks. Training thread only.
 */
public final class StepCollective implements BatchStats {
    private final Collective collective;
    private final long generation;
    private final long step;
    private int sequence;
    private long nanos;

    /** The operations of step {@code step} of {@code generation}. */
    public StepCollective(Collective collective, long generation, long step) {
        this.collective = collective;
        this.generation = generation;
        this.step = step;
    }

    public int rank() {
        return collective.rank();
    }

    public int worldSize() {
        return collective.worldSize();
    }

    /** Nanoseconds spent in collective operations so far. */
    public long nanos() {
        return nanos;
    }

    private OpTag next() {
        return new OpTag(generation, step, sequence++);
    }

    /** Sum over ranks in place, double precision. */
    public void allReduceSum(double[] data) {
        long t = System.nanoTime();
        collective.allReduceSum(next(), data);
        nanos += System.nanoTime() - t;
    }

    /** Sum over ranks in place, rank order (bit-identical on every rank). */
    public void allReduceSum(float[] data) {
        long t = System.nanoTime();
        collective.allReduceSum(next(), data, 0, data.length);
        nanos += System.nanoTime() - t;
    }

    /** Every rank's rows in rank order. */
    public float[] allGather(float[] local, int[] counts) {
        long t = System.nanoTime();
        float[] out = collective.allGather(next(), local, counts);
        nanos += System.nanoTime() - t;
        return out;
    }

    /** Sum over ranks, of which this rank keeps its own segment. */
    public float[] reduceScatterSum(float[] data, int[] counts) {
        long t = System.nanoTime();
        float[] out = collective.reduceScatterSum(next(), data, counts);
        nanos += System.nanoTime() - t;
        return out;
    }

    @Override
    public double[] reduceMoments(int view, int layer, double[] local) {
        allReduceSum(local);
        return local;
    }

    @Override
    public double[] reduceGradients(int view, int layer, double[] local) {
        allReduceSum(local);
        return local;
    }
}

package org.clmr.worker.step;

import org.clmr.worker.collective.Collective;
import org.clmr.worker.collective.CommThread;
import org.clmr.worker.collective.OpTag;
import org.clmr.worker.model.BatchStats;

import java.util.function.Function;

/**
 * One training step's view of the {@link Collective}: tags every operation (generation, step, next
 * sequence number), so all ranks issue the same tags as long as they issue the same operations in the
 * same order, and adds up the time the training thread waits for the collective (the step's exposed
 * communication, which includes waiting for the slowest rank). As {@link BatchStats} it makes the
 * segmented encoder's batch norm synchronised: moments and statistic gradients are summed over all ranks,
 * one operation per layer and pass.
 *
 * <p>Operations run either on the calling thread or, during a distributed step, on the step's
 * {@link CommThread}, which then has sole use of the collective: the training thread waits for the result
 * of each operation it needs at once and leaves gradient buckets ({@link GradientBuckets}) running behind
 * the backward pass. Training thread only.
 */
public final class StepCollective implements BatchStats {
    private final Collective collective;
    private final CommThread comm;
    private final long generation;
    private final long step;
    private int sequence;
    private long nanos;
    private int operations;
    private int batchNormOperations;
    private GradientBuckets buckets;

    /** The operations of step {@code step} of {@code generation}, run on the calling thread. */
    public StepCollective(Collective collective, long generation, long step) {
        this(collective, null, generation, step);
    }

    /**
     * The operations of step {@code step} of {@code generation}, run on {@code comm} when it is not null
     * (which then owns {@code collective} until it is closed).
     */
    public StepCollective(Collective collective, CommThread comm, long generation, long step) {
        this.collective = collective;
        this.comm = comm;
        this.generation = generation;
        this.step = step;
    }

    public int rank() {
        return collective.rank();
    }

    public int worldSize() {
        return collective.worldSize();
    }

    /** Nanoseconds the training thread spent waiting for collective operations so far. */
    public long nanos() {
        return nanos;
    }

    /** Operations issued so far. */
    public int operations() {
        return operations;
    }

    /** Of which the batch-norm layers' exchanges (the small all-reduces of the forward and backward). */
    public int batchNormOperations() {
        return batchNormOperations;
    }

    /** Buckets to launch at each batch-norm gradient exchange of the backward pass, or null. */
    void launchWith(GradientBuckets b) {
        this.buckets = b;
    }

    private OpTag next() {
        operations++;
        return new OpTag(generation, step, sequence++);
    }

    /** Issues an operation; it runs now (no communication thread) or in submission order on the thread. */
    <T> CommThread.Ticket<T> submit(Function<OpTag, Function<Collective, T>> op) {
        OpTag tag = next();
        if (comm != null) {
            return comm.submit(op.apply(tag));
        }
        return CommThread.Ticket.completed(timed(() -> op.apply(tag).apply(collective)));
    }

    /** Waits for an operation, counting the wait as exposed communication. */
    <T> T await(CommThread.Ticket<T> ticket) {
        return timed(ticket::await);
    }

    private <T> T timed(java.util.function.Supplier<T> s) {
        long t = System.nanoTime();
        try {
            return s.get();
        } finally {
            nanos += System.nanoTime() - t;
        }
    }

    /** Sum over ranks in place, double precision. */
    public void allReduceSum(double[] data) {
        await(submit(tag -> c -> {
            c.allReduceSum(tag, data);
            return data;
        }));
    }

    /** Sum over ranks in place, rank order (bit-identical on every rank). */
    public void allReduceSum(float[] data) {
        await(submit(tag -> c -> {
            c.allReduceSum(tag, data, 0, data.length);
            return data;
        }));
    }

    /** Every rank's rows in rank order. */
    public float[] allGather(float[] local, int[] counts) {
        return await(submit(tag -> c -> c.allGather(tag, local, counts)));
    }

    /** Sum over ranks, of which this rank keeps its own segment. */
    public float[] reduceScatterSum(float[] data, int[] counts) {
        return await(submit(tag -> c -> c.reduceScatterSum(tag, data, counts)));
    }

    @Override
    public double[] reduceMoments(int layer, double[] local) {
        batchNormOperations++;
        allReduceSum(local);
        return local;
    }

    /**
     * Sums the statistic gradients of a layer; gradient buckets that the backward pass has completed since
     * the last call are issued right behind this exchange, so that they run while the layer's convolution
     * backward does.
     */
    @Override
    public double[] reduceGradients(int layer, double[] local) {
        batchNormOperations++;
        CommThread.Ticket<double[]> t = submit(tag -> c -> {
            c.allReduceSum(tag, local);
            return local;
        });
        if (buckets != null) {
            buckets.launchReady();
        }
        return await(t);
    }
}

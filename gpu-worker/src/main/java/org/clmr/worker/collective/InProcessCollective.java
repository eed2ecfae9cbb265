package org.clmr.worker.collective;

import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Phaser;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A world of several ranks inside one JVM, one thread per rank: every operation is an exchange through
 * shared slots between two barrier phases (all ranks deposit, then each reads every slot in rank order,
 * then all leave). Every rank computes its result from the same slots in the same order, so sums are
 * bit-identical on all ranks, as the contract asks. For tests and single-host benchmarks of the
 * distributed step; {@link AeronCollective} is the transport between processes.
 *
 * <p>Argument and tag checks are those of {@link LocalCollective}; in addition every rank must issue the
 * same tag, and an operation whose deadline passes throws {@link CollectiveTimeoutException} naming the
 * ranks that had not arrived (the group is then broken: later operations fail at once). Deadlines are
 * read from the group's {@link NanoClock}: the system clock, or a hand-advanced one in tests (a waiting
 * rank looks at it at least every {@value #CLOCK_LOOK_MS} ms).
 */
public final class InProcessCollective implements Collective {
    /** Longest real wait between two looks at the clock while a rank waits for the others. */
    static final long CLOCK_LOOK_MS = 10;
    private final Group group;
    private final int rank;
    private final TagOrder order = new TagOrder();
    private long ops;

    /** The slots and the barrier shared by the ranks of one group; a terminated barrier is a broken group. */
    private static final class Group {
        final int size;
        final long generation;
        final long timeoutMillis;
        final NanoClock clock;
        final Phaser barrier;
        final Object[] slots;
        final OpTag[] tags;
        final AtomicLongArray arrived;

        Group(int size, long generation, long timeoutMillis, NanoClock clock) {
            this.size = size;
            this.generation = generation;
            this.timeoutMillis = timeoutMillis;
            this.clock = clock;
            this.barrier = new Phaser(size);
            this.slots = new Object[size];
            this.tags = new OpTag[size];
            this.arrived = new AtomicLongArray(size);
        }
    }

    private InProcessCollective(Group group, int rank) {
        this.group = group;
        this.rank = rank;
    }

    /**
     * The ranks of a new world, index = rank; hand each to its own thread. Deadlines on the system clock.
     *
     * @param timeoutMillis how long an operation waits for the slowest rank
     */
    public static List<Collective> group(int worldSize, long generation, long timeoutMillis) {
        return group(worldSize, generation, timeoutMillis, SystemNanoClock.INSTANCE);
    }

    /**
     * The ranks of a new world, index = rank; hand each to its own thread.
     *
     * @param timeoutMillis how long, on {@code clock}, an operation waits for the slowest rank
     */
    public static List<Collective> group(int worldSize, long generation, long timeoutMillis, NanoClock clock) {
        if (worldSize < 1 || timeoutMillis < 1) {
            throw new IllegalArgumentException("need worldSize >= 1 and timeoutMillis >= 1, got " + worldSize
                    + " and " + timeoutMillis);
        }
        Group g = new Group(worldSize, generation, timeoutMillis, clock);
        List<Collective> ranks = new ArrayList<>(worldSize);
        for (int r = 0; r < worldSize; r++) {
            ranks.add(new InProcessCollective(g, r));
        }
        return List.copyOf(ranks);
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int worldSize() {
        return group.size;
    }

    @Override
    public void allReduceSum(OpTag tag, float[] data, int offset, int length) {
        order.next(group.generation, tag);
        Args.checkRange(data.length, offset, length);
        float[] sum = new float[length];
        exchange(tag, new float[][] {data}, () -> {
            System.arraycopy(slot(0), offset, sum, 0, length);
            for (int r = 1; r < group.size; r++) {
                float[] other = slot(r);
                for (int i = 0; i < length; i++) {
                    sum[i] += other[offset + i];
                }
            }
        });
        System.arraycopy(sum, 0, data, offset, length);
    }

    @Override
    public void allReduceSum(OpTag tag, double[] data) {
        order.next(group.generation, tag);
        double[] sum = new double[data.length];
        exchange(tag, data, () -> {
            for (int r = 0; r < group.size; r++) {
                double[] other = (double[]) group.slots[r];
                if (other.length != data.length) {
                    throw new IllegalArgumentException("rank " + r + " reduces " + other.length + " values, rank "
                            + rank + " " + data.length + " (op " + tag + ")");
                }
                for (int i = 0; i < data.length; i++) {
                    sum[i] = r == 0 ? other[i] : sum[i] + other[i];
                }
            }
        });
        System.arraycopy(sum, 0, data, 0, data.length);
    }

    @Override
    public float[] allGather(OpTag tag, float[] local, int[] counts) {
        order.next(group.generation, tag);
        Args.checkCounts(counts, group.size, rank, local.length);
        int total = 0;
        for (int c : counts) {
            total += c;
        }
        float[] out = new float[total];
        exchange(tag, new float[][] {local}, () -> {
            int at = 0;
            for (int r = 0; r < group.size; r++) {
                float[] other = slot(r);
                if (other.length != counts[r]) {
                    throw new IllegalArgumentException("rank " + r + " gathers " + other.length + " values, counts say "
                            + counts[r] + " (op " + tag + ")");
                }
                System.arraycopy(other, 0, out, at, other.length);
                at += other.length;
            }
        });
        return out;
    }

    @Override
    public float[] reduceScatterSum(OpTag tag, float[] data, int[] counts) {
        order.next(group.generation, tag);
        Args.checkCounts(counts, group.size, -1, data.length);
        int offset = 0;
        for (int r = 0; r < rank; r++) {
            offset += counts[r];
        }
        int from = offset;
        float[] own = new float[counts[rank]];
        exchange(tag, new float[][] {data}, () -> {
            System.arraycopy(slot(0), from, own, 0, own.length);
            for (int r = 1; r < group.size; r++) {
                float[] other = slot(r);
                for (int i = 0; i < own.length; i++) {
                    own[i] += other[from + i];
                }
            }
        });
        return own;
    }

    @Override
    public byte[] broadcast(OpTag tag, byte[] data, int root) {
        order.next(group.generation, tag);
        if (root < 0 || root >= group.size || (rank == root && data == null)) {
            throw new IllegalArgumentException("broadcast root " + root + " must be a rank in [0, " + group.size
                    + ") and hold data");
        }
        byte[][] out = new byte[1][];
        exchange(tag, data, () -> out[0] = ((byte[]) group.slots[root]).clone());
        return out[0];
    }

    private float[] slot(int r) {
        return ((float[][]) group.slots[r])[0];
    }

    /** Deposit, wait for all, check the tags agree, read (in rank order), wait for all to have read. */
    private void exchange(OpTag tag, Object contribution, Runnable read) {
        ops++;
        group.slots[rank] = contribution;
        group.tags[rank] = tag;
        group.arrived.set(rank, ops);
        await(tag);
        try {
            for (int r = 0; r < group.size; r++) {
                if (!tag.equals(group.tags[r])) {
                    throw new IllegalStateException("rank " + r + " issued op " + group.tags[r] + " while rank " + rank
                            + " issued " + tag + ": every rank must issue the same operations in the same order");
                }
            }
            read.run();
        } finally {
            await(tag);
        }
    }

    /**
     * Arrives at the barrier and waits for every rank, or until {@code timeoutMillis} on the clock have
     * passed; a rank that gives up breaks the group for all (as a timed-out {@code CyclicBarrier} does).
     */
    private void await(OpTag tag) {
        Phaser barrier = group.barrier;
        long deadline = group.clock.nanoTime() + TimeUnit.MILLISECONDS.toNanos(group.timeoutMillis);
        int phase = barrier.arrive();
        boolean passed = false;
        try {
            while (phase >= 0) {
                long left = deadline - group.clock.nanoTime();
                if (left <= 0) {
                    barrier.forceTermination();
                    break;
                }
                try {
                    int now = barrier.awaitAdvanceInterruptibly(phase,
                            Math.min(left, TimeUnit.MILLISECONDS.toNanos(CLOCK_LOOK_MS)), TimeUnit.NANOSECONDS);
                    // negative once broken; its low bits still tell whether our phase had completed first
                    passed = now >= 0 || (now & Integer.MAX_VALUE) != phase;
                    break;
                } catch (TimeoutException e) {
                    // not every rank yet: look at the clock again
                }
            }
        } catch (InterruptedException e) {
            barrier.forceTermination();
            Thread.currentThread().interrupt();
            throw new CollectiveException("interrupted in collective " + tag);
        }
        if (!passed) {
            throw new CollectiveTimeoutException(tag, silentRanks(), group.timeoutMillis);
        }
    }

    /** Ranks that have not yet arrived at this rank's current operation. */
    private List<Integer> silentRanks() {
        List<Integer> silent = new ArrayList<>();
        for (int r = 0; r < group.size; r++) {
            if (group.arrived.get(r) < ops) {
                silent.add(r);
            }
        }
        return silent;
    }

    @Override
    public void close() {
    }
}

package org.clmr.data.sampling;

import org.clmr.data.random.Rng;

import java.util.Arrays;

/**
 * The exactly-once sampling rule (DESIGN.md, distributed semantics). Epoch {@code e} visits the items
 * 0..n-1 in the order of a permutation drawn by Fisher-Yates ({@link Rng#shuffle}) from
 * {@code Rng.of(runSeed, e)}; step {@code k} takes permutation positions [kB, (k+1)B) of the global batch
 * B; a worker whose rank has share s_r takes the slice that starts after the shares of the lower ranks.
 * An epoch has floor(n / B) steps; the last n mod B items of the permutation are not used in that epoch
 * (a different set each epoch). Because a position is named by (epoch, step, offset in batch) alone,
 * any sequence of share changes between steps uses every position of a step exactly once.
 * Immutable and thread-safe.
 */
public final class EpochPlan {
    private final long runSeed;
    private final int epoch;
    private final int globalBatch;
    private final int[] order;

    /**
     * The plan of one epoch.
     *
     * @param runSeed     the run's seed
     * @param epoch       0-based epoch
     * @param items       number of items in the pre-training view
     * @param globalBatch B, tracks per step over all workers
     */
    public EpochPlan(long runSeed, int epoch, int items, int globalBatch) {
        if (globalBatch < 1 || items < 0) {
            throw new IllegalArgumentException("items " + items + " and global batch " + globalBatch);
        }
        this.runSeed = runSeed;
        this.epoch = epoch;
        this.globalBatch = globalBatch;
        this.order = new int[items];
        for (int i = 0; i < items; i++) {
            order[i] = i;
        }
        Rng.of(runSeed, epoch).shuffle(order);
    }

    /** The run seed. */
    public long runSeed() {
        return runSeed;
    }

    /** This plan's epoch. */
    public int epoch() {
        return epoch;
    }

    /** B. */
    public int globalBatch() {
        return globalBatch;
    }

    /** Items in the view. */
    public int items() {
        return order.length;
    }

    /** floor(n / B). */
    public int stepsPerEpoch() {
        return order.length / globalBatch;
    }

    /** The item at permutation position {@code position}. */
    public int itemAt(int position) {
        return order[position];
    }

    /** The whole permutation (a copy). */
    public int[] order() {
        return order.clone();
    }

    /**
     * The items of step {@code step} at batch offsets [offsetInBatch, offsetInBatch + count).
     *
     * @throws IllegalArgumentException when the step or the slice lies outside the epoch or the batch
     */
    public int[] slice(int step, int offsetInBatch, int count) {
        if (step < 0 || step >= stepsPerEpoch()) {
            throw new IllegalArgumentException("step " + step + " outside epoch " + epoch + " of " + stepsPerEpoch() + " steps");
        }
        if (offsetInBatch < 0 || count < 0 || offsetInBatch + count > globalBatch) {
            throw new IllegalArgumentException("slice [" + offsetInBatch + ", +" + count + ") outside the batch of " + globalBatch);
        }
        int from = step * globalBatch + offsetInBatch;
        return Arrays.copyOfRange(order, from, from + count);
    }

    /** The items rank {@code rank} takes at step {@code step} given every rank's share (summing to B). */
    public int[] slice(int step, int[] shares, int rank) {
        return slice(step, offsetOf(shares, rank), shares[rank]);
    }

    /**
     * Where rank {@code rank}'s slice starts in the batch: the sum of the shares of the ranks below it.
     *
     * @throws IllegalArgumentException when the shares are negative or do not sum to a whole batch
     */
    public int offsetOf(int[] shares, int rank) {
        int sum = 0;
        int offset = 0;
        for (int r = 0; r < shares.length; r++) {
            if (shares[r] < 0) {
                throw new IllegalArgumentException("share of rank " + r + " is negative: " + Arrays.toString(shares));
            }
            if (r == rank) {
                offset = sum;
            }
            sum += shares[r];
        }
        if (sum != globalBatch) {
            throw new IllegalArgumentException("shares " + Arrays.toString(shares) + " sum to " + sum
                    + ", not the global batch " + globalBatch);
        }
        if (rank < 0 || rank >= shares.length) {
            throw new IllegalArgumentException("rank " + rank + " outside " + shares.length + " shares");
        }
        return offset;
    }
}

package org.clmr.protocol.run;

import java.util.Arrays;

/**
 * A whole split into consecutive per-rank parts: the global batch into workers' shares, or a gathered
 * buffer into ranks' blocks. Rank r's part starts where the parts of ranks 0..r-1 end. The one place the
 * prefix sum is written, so the data loader, the step and the collectives agree on where a rank's slice
 * lies. Stateless; any thread.
 */
public final class Shares {
    private Shares() {
    }

    /**
     * Where rank {@code rank}'s part starts: the sum of the parts of the ranks before it.
     *
     * @throws IllegalArgumentException when {@code rank} is not in [0, parts.length]
     */
    public static int offset(int[] parts, int rank) {
        if (rank < 0 || rank > parts.length) {
            throw new IllegalArgumentException("rank " + rank + " outside [0, " + parts.length + "] for parts "
                    + Arrays.toString(parts));
        }
        long offset = 0;
        for (int r = 0; r < rank; r++) {
            offset += parts[r];
        }
        return Math.toIntExact(offset);
    }

    /** The sum of all parts. */
    public static int total(int[] parts) {
        return offset(parts, parts.length);
    }

    /**
     * Checks a split of a global batch: one share per rank of a world of {@code worldSize}, each at least
     * {@code minimum}.
     *
     * @return the offset of {@code rank}'s share
     * @throws IllegalArgumentException naming the bad share
     */
    public static int check(int[] shares, int worldSize, int rank, int minimum) {
        if (shares.length != worldSize) {
            throw new IllegalArgumentException(shares.length + " shares for a world of " + worldSize
                    + " ranks; give one share per rank");
        }
        for (int r = 0; r < shares.length; r++) {
            if (shares[r] < minimum) {
                throw new IllegalArgumentException("share of rank " + r + " is " + shares[r] + ", must be >= "
                        + minimum + ": " + Arrays.toString(shares));
            }
        }
        return offset(shares, rank);
    }
}

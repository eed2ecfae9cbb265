package org.clmr.worker.collective;

/** Argument checks shared by the collectives; messages name the argument and the expected value. */
final class Args {
    private Args() {
    }

    static void checkRange(int arrayLength, int offset, int length) {
        if (offset < 0 || length < 0 || offset + length > arrayLength || offset + length < 0) {
            throw new IllegalArgumentException("range [" + offset + ", " + offset + " + " + length
                    + ") outside an array of length " + arrayLength);
        }
    }

    /**
     * Checks a per-rank count array: {@code worldSize} non-negative counts; if {@code rank >= 0},
     * counts[rank] must equal {@code length}; otherwise their sum must.
     */
    static void checkCounts(int[] counts, int worldSize, int rank, int length) {
        if (counts.length != worldSize) {
            throw new IllegalArgumentException("counts has " + counts.length + " entries, expected one per rank: " + worldSize);
        }
        long sum = 0;
        for (int c : counts) {
            if (c < 0) {
                throw new IllegalArgumentException("counts must be >= 0, got " + java.util.Arrays.toString(counts));
            }
            sum += c;
        }
        if (sum > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("counts sum to " + sum + ", more than one array holds");
        }
        if (rank >= 0 && counts[rank] != length) {
            throw new IllegalArgumentException("counts[" + rank + "] = " + counts[rank] + " but this rank's array has " + length);
        }
        if (rank < 0 && sum != length) {
            throw new IllegalArgumentException("counts sum to " + sum + " but the array has " + length);
        }
    }
}

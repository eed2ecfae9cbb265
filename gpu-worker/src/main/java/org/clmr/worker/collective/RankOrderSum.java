package org.clmr.worker.collective;

/**
 * The staging arrays an {@link AeronCollective} receives its peers' contributions into, and the sums over
 * them in rank order 0, 1, ..., N-1: the same float additions in the same order on every rank, so the
 * results agree bit for bit, and equal a plain sum in rank order. Arrays grow to the largest operation
 * seen and are kept. Used by the thread running the operation only.
 */
final class RankOrderSum {
    private final int rank;
    private final int worldSize;
    private float[][] stageF = new float[0][];
    private double[][] stageD = new double[0][];
    private float[] accF = new float[0];
    private double[] accD = new double[0];

    RankOrderSum(int rank, int worldSize) {
        this.rank = rank;
        this.worldSize = worldSize;
    }

    /** Makes room for {@code n} floats from every peer. */
    void reserveFloats(int n) {
        if (stageF.length != worldSize) {
            stageF = new float[worldSize][];
        }
        for (int p = 0; p < worldSize; p++) {
            if (p != rank && (stageF[p] == null || stageF[p].length < n)) {
                stageF[p] = new float[n];
            }
        }
        if (accF.length < n) {
            accF = new float[n];
        }
    }

    /** Makes room for {@code n} doubles from every peer. */
    void reserveDoubles(int n) {
        if (stageD.length != worldSize) {
            stageD = new double[worldSize][];
        }
        for (int p = 0; p < worldSize; p++) {
            if (p != rank && (stageD[p] == null || stageD[p].length < n)) {
                stageD[p] = new double[n];
            }
        }
        if (accD.length < n) {
            accD = new double[n];
        }
    }

    /** Where {@code peer}'s floats are received (after {@link #reserveFloats}). */
    float[] floatStage(int peer) {
        return stageF[peer];
    }

    /** Where {@code peer}'s doubles are received (after {@link #reserveDoubles}). */
    double[] doubleStage(int peer) {
        return stageD[peer];
    }

    /**
     * out[outOff, +n) = ((x0 + x1) + x2) + ... + x(N-1), where x(rank) is {@code own[ownOff, +n)} and the
     * others are the staged contributions: the same float additions in the same order on every rank.
     * Streams each input once; {@code out} may be {@code own} (element i is read before it is written).
     */
    void sumFloats(float[] own, int ownOff, float[] out, int outOff, int n) {
        if (rank == 0) {
            if (out != own || outOff != ownOff) {
                System.arraycopy(own, ownOff, out, outOff, n);
            }
            for (int k = 1; k < worldSize; k++) {
                addInto(out, outOff, stageF[k], 0, n);
            }
            return;
        }
        float[] acc = accF;
        float[] second = rank == 1 ? own : stageF[1];
        int secondOff = rank == 1 ? ownOff : 0;
        float[] first = stageF[0];
        boolean last = worldSize == 2;
        float[] target = last ? out : acc;
        int targetOff = last ? outOff : 0;
        for (int i = 0; i < n; i++) {
            target[targetOff + i] = first[i] + second[secondOff + i];
        }
        for (int k = 2; k < worldSize; k++) {
            float[] src = k == rank ? own : stageF[k];
            int so = k == rank ? ownOff : 0;
            if (k == worldSize - 1) {
                for (int i = 0; i < n; i++) {
                    out[outOff + i] = acc[i] + src[so + i];
                }
            } else {
                addInto(acc, 0, src, so, n);
            }
        }
    }

    /** data[0, n) = x0 + x1 + ... + x(N-1) in rank order, where x(rank) is {@code data} itself. */
    void sumDoubles(double[] data, int n) {
        double[] acc = accD;
        System.arraycopy(rank == 0 ? data : stageD[0], 0, acc, 0, n);
        for (int k = 1; k < worldSize; k++) {
            double[] src = k == rank ? data : stageD[k];
            for (int i = 0; i < n; i++) {
                acc[i] += src[i];
            }
        }
        System.arraycopy(acc, 0, data, 0, n);
    }

    private static void addInto(float[] acc, int accOff, float[] src, int srcOff, int n) {
        for (int i = 0; i < n; i++) {
            acc[accOff + i] += src[srcOff + i];
        }
    }
}

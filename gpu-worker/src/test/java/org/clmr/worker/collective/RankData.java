package org.clmr.worker.collective;

import java.util.Random;

/** The deterministic inputs of the multi-process tests: rank {@code r}'s data for a named op. */
final class RankData {
    private RankData() {
    }

    static Random random(long seed, int rank, String name) {
        return new Random(seed ^ (rank * 0x9E3779B97F4A7C15L) ^ ((long) name.hashCode() << 20));
    }

    static float[] floats(long seed, int rank, String name, int n) {
        Random rnd = random(seed, rank, name);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (rnd.nextFloat() * 2f - 1f) * (1 + (i % 7));
        }
        return a;
    }

    static double[] doubles(long seed, int rank, String name, int n) {
        Random rnd = random(seed, rank, name);
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = rnd.nextGaussian() * 1e3;
        }
        return a;
    }

    static byte[] bytes(long seed, int rank, String name, int n) {
        byte[] a = new byte[n];
        random(seed, rank, name).nextBytes(a);
        return a;
    }

    /** Plain sum over {@code ranks} in the given order: ((x0 + x1) + x2) ... */
    static float[] plainSum(long seed, int[] ranks, String name, int n) {
        float[] s = floats(seed, ranks[0], name, n);
        for (int k = 1; k < ranks.length; k++) {
            float[] x = floats(seed, ranks[k], name, n);
            for (int i = 0; i < n; i++) {
                s[i] += x[i];
            }
        }
        return s;
    }

    static double[] plainSumD(long seed, int worldSize, String name, int n) {
        double[] s = doubles(seed, 0, name, n);
        for (int k = 1; k < worldSize; k++) {
            double[] x = doubles(seed, k, name, n);
            for (int i = 0; i < n; i++) {
                s[i] += x[i];
            }
        }
        return s;
    }

    static int[] gatherCounts(int worldSize) {
        int[] c = new int[worldSize];
        for (int k = 0; k < worldSize; k++) {
            c[k] = k == 1 ? 0 : 20_000 + 37 * k;
        }
        return c;
    }

    static int[] scatterCounts(int worldSize) {
        int[] c = new int[worldSize];
        for (int k = 0; k < worldSize; k++) {
            c[k] = 30_000 + 1_001 * k;
        }
        return c;
    }

    static int sum(int[] c) {
        int s = 0;
        for (int x : c) {
            s += x;
        }
        return s;
    }
}

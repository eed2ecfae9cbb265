package org.clmr.data.random;

/**
 * The project's one pseudo-random generator: xoshiro256** seeded through SplitMix64. The algorithm is
 * fixed here, not borrowed from the JDK, so that a seed gives the same sequence on every JVM forever —
 * data order and augmentations are reproducible from (run seed, epoch, track, view) alone. Not
 * thread-safe; one instance per view or per epoch.
 */
public final class Rng {
    private long s0;
    private long s1;
    private long s2;
    private long s3;
    private double spareGaussian;
    private boolean hasSpare;

    /** A generator seeded from a single 64-bit value. */
    public Rng(long seed) {
        long x = seed;
        x += 0x9E3779B97F4A7C15L;
        s0 = mix(x);
        x += 0x9E3779B97F4A7C15L;
        s1 = mix(x);
        x += 0x9E3779B97F4A7C15L;
        s2 = mix(x);
        x += 0x9E3779B97F4A7C15L;
        s3 = mix(x);
    }

    /** A generator for a tuple of keys, e.g. {@code Rng.of(runSeed, epoch, track, view)}. */
    public static Rng of(long... keys) {
        return new Rng(derive(keys));
    }

    /** Folds keys into one seed with SplitMix64's finaliser; order matters. */
    public static long derive(long... keys) {
        long h = 0x6A09E667F3BCC909L;
        for (long k : keys) {
            h = mix(h ^ mix(k + 0x9E3779B97F4A7C15L));
        }
        return h;
    }

    /** SplitMix64's output function. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** 64 uniformly random bits. */
    public long nextLong() {
        long result = Long.rotateLeft(s1 * 5, 7) * 9;
        long t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = Long.rotateLeft(s3, 45);
        return result;
    }

    /** Uniform in [0, 1) with 53 bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Uniform in [lo, hi). */
    public double uniform(double lo, double hi) {
        return lo + (hi - lo) * nextDouble();
    }

    /** True with probability p. Draws exactly one value whatever p is, so later draws do not shift. */
    public boolean bernoulli(double p) {
        return nextDouble() < p;
    }

    /** Uniform in [0, bound), unbiased (Lemire's multiply-and-reject). */
    public int nextInt(int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive, was " + bound);
        }
        long m = (nextLong() >>> 32) * bound;
        long low = m & 0xFFFFFFFFL;
        if (low < bound) {
            long threshold = (0x100000000L - bound) % bound;
            while (low < threshold) {
                m = (nextLong() >>> 32) * bound;
                low = m & 0xFFFFFFFFL;
            }
        }
        return (int) (m >>> 32);
    }

    /** Uniform in [0, bound) for long bounds. */
    public long nextLong(long bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive, was " + bound);
        }
        long limit = Long.MAX_VALUE - (Long.MAX_VALUE % bound);
        long r;
        do {
            r = nextLong() >>> 1;
        } while (r >= limit);
        return r % bound;
    }

    /** Standard normal (Marsaglia's polar method; the algorithm is part of the reproducibility contract). */
    public double nextGaussian() {
        if (hasSpare) {
            hasSpare = false;
            return spareGaussian;
        }
        double u;
        double v;
        double s;
        do {
            u = 2 * nextDouble() - 1;
            v = 2 * nextDouble() - 1;
            s = u * u + v * v;
        } while (s >= 1 || s == 0);
        double f = Math.sqrt(-2 * Math.log(s) / s);
        spareGaussian = v * f;
        hasSpare = true;
        return u * f;
    }

    /** Fisher-Yates shuffle of {@code a} in place. */
    public void shuffle(int[] a) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}

package org.clmr.protocol.fuzz;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Checks a property on one case of integer parameters and, when it fails, shrinks the case before reporting
 * it: each parameter is moved towards its origin (0, or the end of its range nearest to 0) by halving the
 * distance, as long as the property still fails the same way, until no parameter can move. The fuzz engine
 * (Jazzer) finds failing cases but does not shrink them; this gives the minimal case the regression test keeps.
 */
public final class Shrinking {
    /** Upper bound on property runs spent shrinking one failure. */
    static final int MAX_RUNS = 400;
    /** Upper bound on time spent shrinking one failure. */
    static final long MAX_NANOS = 60_000_000_000L;

    /**
     * One parameter of a case: its name, inclusive range, and whether {@link Property} draws it uniformly over
     * the logarithm of its range (lengths and sizes, whose small values matter as much as the large ones).
     */
    public record Dim(String name, long min, long max, boolean logScale) {
        public Dim {
            if (min > max || (logScale && min < 1)) {
                throw new IllegalArgumentException(name + ": range [" + min + ", " + max + "]");
            }
        }

        /** A parameter drawn uniformly from [min, max]. */
        public static Dim of(String name, long min, long max) {
            return new Dim(name, min, max, false);
        }

        /** A parameter drawn log-uniformly from [min, max], min >= 1. */
        public static Dim log(String name, long min, long max) {
            return new Dim(name, min, max, true);
        }

        long origin() {
            return Math.max(min, Math.min(max, 0));
        }
    }

    private Shrinking() {
    }

    /**
     * Runs {@code property} on {@code values}; if it throws, shrinks and throws an AssertionError naming the
     * property ({@code name}), the original and the minimal case, caused by the minimal case's failure.
     */
    public static void check(String name, List<Dim> dims, long[] values, Consumer<long[]> property) {
        Throwable failure = run(property, values);
        if (failure == null) {
            return;
        }
        long[] best = values.clone();
        Throwable bestFailure = failure;
        int runs = 0;
        long deadline = System.nanoTime() + MAX_NANOS;
        boolean moved = true;
        while (moved && runs < MAX_RUNS && System.nanoTime() < deadline) {
            moved = false;
            for (int i = 0; i < best.length && runs < MAX_RUNS; i++) {
                for (long candidate : towardsOrigin(best[i], dims.get(i).origin())) {
                    long[] c = best.clone();
                    c[i] = candidate;
                    runs++;
                    Throwable t = run(property, c);
                    if (t != null && t.getClass() == failure.getClass()) {
                        best = c;
                        bestFailure = t;
                        moved = true;
                        break;
                    }
                }
            }
        }
        throw new AssertionError(name + " fails for " + describe(dims, best) + " (shrunk in " + runs
                + " runs from " + describe(dims, values) + "): " + bestFailure, bestFailure);
    }

    /** The candidates between {@code v} and {@code origin}, nearest to the origin first. */
    static List<Long> towardsOrigin(long v, long origin) {
        List<Long> out = new ArrayList<>();
        if (v == origin) {
            return out;
        }
        out.add(origin);
        long d = v - origin;
        for (long step = d / 2; step != 0; step /= 2) {
            out.add(v - step);
        }
        if (Math.abs(d) > 1) {
            out.add(v - Long.signum(d));
        }
        return out;
    }

    /** {@code name=value} pairs. */
    public static String describe(List<Dim> dims, long[] values) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < values.length; i++) {
            b.append(i == 0 ? "" : ", ").append(dims.get(i).name()).append('=').append(values[i]);
        }
        return b.append(']').toString();
    }

    private static Throwable run(Consumer<long[]> property, long[] values) {
        try {
            property.accept(Arrays.copyOf(values, values.length));
            return null;
        } catch (Throwable t) { // a property may fail by any throwable; shrinking keeps the kind
            return t;
        }
    }
}

package org.clmr.protocol.fuzz;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * A property checked on drawn cases of integer parameters, shrunk by {@link Shrinking} when one fails. The first
 * two cases are every parameter at its minimum, then at its maximum; every later parameter value is its minimum,
 * its maximum or its origin one time in eight each, otherwise drawn (log-uniformly for {@link Shrinking.Dim#log}
 * parameters). The draws come from {@code -Dclmr.property.seed} when set, otherwise from a fresh seed that a
 * failure names; {@code -Dclmr.property.tries=N} multiplies the number of cases (the run before a release).
 * Runs on the calling (test) thread.
 */
public final class Property {
    private Property() {
    }

    /**
     * Checks {@code property} on {@code tries} cases (times the {@code clmr.property.tries} factor).
     *
     * @param property throws (an assertion or any exception) when the case breaks the property
     * @throws AssertionError naming the shrunk case and the seed that reproduces the run
     */
    public static void forAll(String name, List<Shrinking.Dim> dims, int tries, Consumer<long[]> property) {
        long seed = Long.getLong("clmr.property.seed", new SplittableRandom().nextLong());
        SplittableRandom random = new SplittableRandom(seed);
        int cases = tries * Integer.getInteger("clmr.property.tries", 1);
        for (int c = 0; c < cases; c++) {
            long[] values = new long[dims.size()];
            for (int i = 0; i < values.length; i++) {
                Shrinking.Dim d = dims.get(i);
                values[i] = c == 0 ? d.min() : c == 1 ? d.max() : draw(d, random);
            }
            try {
                Shrinking.check(name, dims, values, property);
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "; case " + (c + 1) + " of " + cases
                        + ", reproduce with -Dclmr.property.seed=" + seed, e.getCause());
            }
        }
    }

    static long draw(Shrinking.Dim d, SplittableRandom random) {
        switch (random.nextInt(8)) {
            case 0: return d.min();
            case 1: return d.max();
            case 2: return d.origin();
            default:
                if (d.logScale()) {
                    double lo = Math.log(d.min());
                    double hi = Math.log(d.max() + 1.0);
                    return Math.max(d.min(), Math.min(d.max(), (long) Math.exp(lo + random.nextDouble() * (hi - lo))));
                }
                if (d.max() - d.min() < 0 || d.max() - d.min() == Long.MAX_VALUE) {
                    long v = random.nextLong();
                    return Math.max(d.min(), Math.min(d.max(), v));
                }
                return d.min() + random.nextLong(d.max() - d.min() + 1);
        }
    }
}

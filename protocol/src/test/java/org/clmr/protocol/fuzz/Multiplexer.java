package org.clmr.protocol.fuzz;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * Several fuzz targets behind one {@code @FuzzTest}: the input's first byte picks the target, the rest is its
 * input. Jazzer fuzzes one test per JVM and its start costs seconds, so a module's bounded run in {@code mvn
 * verify} fuzzes all of its targets in one JVM; each target keeps its own class for regression runs and for
 * long runs of that target alone. Counts the cases each target ran.
 */
public final class Multiplexer {
    /** One target: its name, its check of an input, and its seed inputs. */
    public record Target(String name, Consumer<byte[]> check, Supplier<Stream<byte[]>> seeds) {
    }

    private final List<Target> targets;
    private final AtomicLongArray cases;

    public Multiplexer(List<Target> targets) {
        this.targets = List.copyOf(targets);
        this.cases = new AtomicLongArray(targets.size());
    }

    /** Every target's seeds, each behind its target's selector byte. */
    public Stream<byte[]> seeds() {
        return IntStream.range(0, targets.size()).boxed()
                .flatMap(i -> targets.get(i).seeds().get().map(s -> prefixed(i.byteValue(), s)));
    }

    /** Runs the target the first byte selects on the rest (an empty input selects nothing). */
    public void run(byte[] input) {
        if (input.length == 0) {
            return;
        }
        int i = (input[0] & 0xFF) % targets.size();
        cases.incrementAndGet(i);
        targets.get(i).check().accept(Arrays.copyOfRange(input, 1, input.length));
    }

    /** {@code name=cases} of every target, for the run's log. */
    public String counts() {
        StringBuilder b = new StringBuilder("fuzz cases per target:");
        for (int i = 0; i < targets.size(); i++) {
            b.append(' ').append(targets.get(i).name()).append('=').append(cases.get(i));
        }
        return b.toString();
    }

    private static byte[] prefixed(byte selector, byte[] seed) {
        byte[] b = new byte[seed.length + 1];
        b[0] = selector;
        System.arraycopy(seed, 0, b, 1, seed.length);
        return b;
    }
}

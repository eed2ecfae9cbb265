package org.clmr.ops.bench;

import org.clmr.protocol.UserError;
import picocli.CommandLine;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;

/**
 * What a benchmark's timings count: elapsed time, or the CPU time (user + system) of the timing thread.
 * With one intra-op thread PyTorch runs every kernel on the calling thread, so CPU time is the work done
 * without the time spent waiting for a core that other processes hold: on a shared, loaded machine it
 * compares two implementations far more steadily than elapsed time does.
 */
public enum BenchClock {
    /** {@link System#nanoTime()}. */
    WALL,
    /** The current thread's CPU time. */
    CPU;

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /** Now, in nanoseconds, on this clock (differences only). */
    public long nanos() {
        return this == WALL ? System.nanoTime() : THREADS.getCurrentThreadCpuTime();
    }

    /** Reads {@code --clock wall|cpu} (any case). */
    public static final class Converter implements CommandLine.ITypeConverter<BenchClock> {
        @Override
        public BenchClock convert(String value) {
            for (BenchClock c : values()) {
                if (c.name().equalsIgnoreCase(value)) {
                    return c;
                }
            }
            throw new CommandLine.TypeConversionException("'" + value + "' is not a clock; use wall or cpu");
        }
    }

    /** The option's spelling: wall or cpu. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Refuses the CPU clock where the work would spread over threads it does not count. */
    public void check(int threads) {
        if (this == CPU && threads != 1) {
            throw new UserError("--clock cpu counts the timing thread only; run it with --threads 1 (got "
                    + threads + ")");
        }
        if (this == CPU && !THREADS.isCurrentThreadCpuTimeSupported()) {
            throw new UserError("this JVM cannot measure thread CPU time; use --clock wall");
        }
    }
}

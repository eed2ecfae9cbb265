package org.clmr.ops.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How long a benchmark warms up. On CPU the heap first grows to the training loop's peak, and while it
 * grows, fresh pages fault in (on the 2-core development VM a paper-preset step faulted 20-120k pages in
 * each of its first ~7 steps, costing up to 2x its settled time). So a figure warms up at least
 * {@code min} runs and then until {@link #SETTLED_RUNS} runs in a row take fewer than {@link #SETTLED_FAULTS} minor
 * page faults each and grow the resident set by less than {@link #SETTLED_GROWTH} bytes, or {@code max} runs in all.
 * The resident set is the second witness because with transparent huge pages one fault brings in 2 MiB, so a
 * growing heap can fault only a handful of times. bench_model_torch.py does the same for the PyTorch side.
 */
final class Warmup {
    /** Minor page faults (4 KiB each) below which one run counts as settled: 8 MiB. */
    static final long SETTLED_FAULTS = 2_000;
    /** Settled runs in a row that end the warm-up (the heap grows in bursts, not at every run). */
    static final int SETTLED_RUNS = 2;
    /** Resident-set growth below which one run counts as settled: 8 MiB, the same as {@link #SETTLED_FAULTS}. */
    static final long SETTLED_GROWTH = 8L << 20;

    private final int min;
    private final int max;

    Warmup(int min, int max) {
        this.min = min;
        this.max = Math.max(min, max);
    }

    /** Runs {@code body} until settled (not at all when {@code min} is 0); returns how many runs that took. */
    int run(Runnable body) {
        if (min == 0) {
            return 0;
        }
        int runs = 0;
        int settled = 0;
        while (runs < max) {
            long before = minorFaults();
            long residentBefore = residentBytes();
            body.run();
            runs++;
            boolean quiet = before >= 0 && minorFaults() - before < SETTLED_FAULTS
                    && (residentBefore < 0 || residentBytes() - residentBefore < SETTLED_GROWTH);
            settled = quiet ? settled + 1 : 0;
            if (runs >= min && (before < 0 || settled >= SETTLED_RUNS)) {
                break;
            }
        }
        return runs;
    }

    /** This process's minor page faults so far (Linux /proc/self/stat), or -1 where unknown. */
    static long minorFaults() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            // fields after "(comm) ": state ppid pgrp session tty_nr tpgid flags minflt ...
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[7]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** This process's resident set in bytes (Linux /proc/self/statm, 4 KiB pages), or -1 where unknown. */
    static long residentBytes() {
        try {
            String[] f = Files.readString(Path.of("/proc/self/statm")).trim().split(" ");
            return Long.parseLong(f[1]) * 4096;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}

package org.clmr.worker.collective;

import org.agrona.concurrent.NanoClock;

import java.time.Duration;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * A {@link NanoClock} that moves only when the test advances it, and counts how often it was read, so that
 * a test can wait until a collective running on another thread has looked at the time it set: a read
 * counted after an {@link #advance} saw the advanced time, and the read after that one means the collective
 * has finished acting on it. Starts near the top of the long range, so every deadline crosses the wrap.
 */
final class HandClock implements NanoClock {
    private final AtomicLong now = new AtomicLong(Long.MAX_VALUE - TimeUnit.MILLISECONDS.toNanos(100));
    private final AtomicLong reads = new AtomicLong();

    @Override
    public long nanoTime() {
        reads.incrementAndGet();
        return now.get();
    }

    /** Moves the clock on by {@code d}. */
    void advance(Duration d) {
        now.addAndGet(d.toNanos());
    }

    /** How often the clock has been read so far. */
    long reads() {
        return reads.get();
    }

    /**
     * Waits until the clock has been read {@code more} times after this call: with {@code more = 2}, the
     * reader has looked at the current time and gone round its loop once with it. Fails after 10 s of
     * real time.
     */
    void awaitReads(long more) {
        long target = reads.get() + more;
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (reads.get() < target) {
            if (System.nanoTime() - giveUp > 0) {
                fail("the clock was read " + reads.get() + " times, never " + target);
            }
            LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(50));
        }
    }

    /**
     * Moves the clock on by {@code step} each time its reader has looked at it twice, until {@code call}
     * is done, so that time passes only as fast as the reader checks it: for waits on something outside
     * the clock (Aeron noticing a peer has gone). Fails after 20 s of real time.
     *
     * @return how far the clock moved
     */
    Duration tickUntilDone(Future<?> call, Duration step) {
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        long ticks = 0;
        while (!call.isDone()) {
            if (System.nanoTime() - giveUp > 0) {
                fail("still running after " + ticks + " ticks of " + step);
            }
            long seen = reads.get();
            advance(step);
            ticks++;
            while (reads.get() < seen + 2 && !call.isDone()) {
                LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(50));
            }
        }
        return step.multipliedBy(ticks);
    }
}

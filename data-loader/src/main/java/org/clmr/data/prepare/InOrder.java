package org.clmr.data.prepare;

import org.clmr.protocol.UserError;

import java.util.ArrayDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * Runs {@code work(0..count-1)} on {@code jobs} threads and hands the results to {@code sink} on the
 * calling thread in index order, with at most {@code 2 * jobs} results waiting: parallel decoding, a
 * sequential writer, and an output that does not depend on the number of jobs.
 */
public final class InOrder {
    private InOrder() {
    }

    /** See the class comment. Exceptions from {@code work} propagate (a {@link UserError} unchanged). */
    public static <T> void map(int count, int jobs, IntFunction<T> work, Consumer<T> sink) {
        AtomicInteger ids = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, jobs), r -> {
            Thread t = new Thread(r, "clmr-prepare-" + ids.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        try {
            ArrayDeque<Future<T>> window = new ArrayDeque<>();
            int next = 0;
            for (int done = 0; done < count; done++) {
                while (next < count && window.size() < 2 * Math.max(1, jobs)) {
                    int i = next++;
                    window.add(pool.submit(() -> work.apply(i)));
                }
                sink.accept(get(window.poll()));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static <T> T get(Future<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        }
    }
}

package org.clmr.worker.collective;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;

/**
 * The communication thread of one rank for one training step: while it lives it is the only thread that
 * runs operations of its {@link Collective}. The training thread hands it operations through one door, a
 * bounded queue ({@link #submit}), and gets each result back through a {@link Ticket}; the thread runs them
 * one at a time in submission order, so the ranks' operations (and tags) come in the order the training
 * thread issued them, whatever the timing. This is what lets a gradient bucket be all-reduced while the
 * training thread goes on with the backward pass.
 *
 * <p>Failure: the first operation that throws fails its ticket with its exception, and every operation
 * queued or submitted after it fails with the same exception without running (the collective is then in an
 * unknown state; its owner closes it). {@link #close} waits for the queue to drain; {@link #cancel} fails what
 * has not started yet and waits for the operation in progress (an operation ends within its deadline).
 */
public final class CommThread implements AutoCloseable {
    private final Collective collective;
    private final BlockingQueue<Job<?>> queue;
    private final Thread thread;
    private volatile RuntimeException failure;
    private volatile boolean cancelled;
    private long busyNanos;
    private int completed;

    /** One operation and its result. */
    public static final class Ticket<T> {
        private final CompletableFuture<T> result = new CompletableFuture<>();

        /** The ticket of an operation that already ran on the calling thread. */
        public static <T> Ticket<T> completed(T value) {
            Ticket<T> t = new Ticket<>();
            t.result.complete(value);
            return t;
        }

        /** Waits for the operation; rethrows what it (or an operation before it) threw. */
        public T await() {
            try {
                return result.join();
            } catch (CompletionException e) {
                if (e.getCause() instanceof RuntimeException r) {
                    throw r;
                }
                throw e;
            }
        }

        /** Whether the operation has ended (well or not). */
        public boolean done() {
            return result.isDone();
        }
    }

    private record Job<T>(Function<Collective, T> op, Ticket<T> ticket) {
    }

    private static final Job<Void> STOP = new Job<>(c -> null, new Ticket<>());

    private CommThread(Collective collective, String name, int capacity) {
        this.collective = collective;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.thread = new Thread(this::loop, name);
        this.thread.setDaemon(true);
    }

    /**
     * Starts the thread; from now until {@link #close} or {@link #cancel} returns, no other thread may use
     * {@code collective}.
     *
     * @param capacity operations that may wait in the queue; {@link #submit} blocks beyond
     */
    public static CommThread start(Collective collective, String name, int capacity) {
        CommThread c = new CommThread(collective, name, capacity);
        c.thread.start();
        return c;
    }

    /** Queues an operation (blocking while the queue is full). Training thread. */
    public <T> Ticket<T> submit(Function<Collective, T> op) {
        Job<T> job = new Job<>(op, new Ticket<>());
        RuntimeException f = failure;
        if (f != null) {
            job.ticket.result.completeExceptionally(f);
            return job.ticket;
        }
        try {
            queue.put(job);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CollectiveException("interrupted while queueing a collective operation");
        }
        return job.ticket;
    }

    private void loop() {
        while (true) {
            Job<?> job;
            try {
                job = queue.take();
            } catch (InterruptedException e) {
                // only close() and cancel() stop the thread, through the queue
                continue;
            }
            if (job == STOP) {
                return;
            }
            run(job);
        }
    }

    private <T> void run(Job<T> job) {
        RuntimeException f = failure;
        if (f == null && cancelled) {
            f = new CollectiveException("collective operation cancelled: the step failed before it ran");
        }
        if (f != null) {
            job.ticket.result.completeExceptionally(f);
            return;
        }
        long t = System.nanoTime();
        try {
            T value = job.op.apply(collective);
            busyNanos += System.nanoTime() - t;
            completed++;
            job.ticket.result.complete(value);
        } catch (RuntimeException e) {
            busyNanos += System.nanoTime() - t;
            failure = e;
            job.ticket.result.completeExceptionally(e);
        }
    }

    /** Nanoseconds the thread spent inside operations; read after {@link #close}. */
    public long busyNanos() {
        return busyNanos;
    }

    /** Operations that completed; read after {@link #close}. */
    public int completed() {
        return completed;
    }

    /** Runs what was queued, then stops the thread and waits for it. */
    @Override
    public void close() {
        stop();
    }

    /** Fails what has not started, waits for the operation in progress, stops the thread. */
    public void cancel() {
        cancelled = true;
        stop();
    }

    private void stop() {
        if (!thread.isAlive()) {
            return;
        }
        boolean interrupted = false;
        boolean queued = false;
        // the collective must not outlive its sole user: wait on through interrupts, and keep the interrupt
        while (!queued) {
            try {
                queue.put(STOP);
                queued = true;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}

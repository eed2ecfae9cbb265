package org.clmr.protocol.fuzz;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The contract of every reader of outside bytes (issue #23): whatever the input, it returns, or it throws one
 * of its typed errors with a one-line message; never another exception or error, never a hang, and it never
 * allocates beyond a fixed multiple of the input's size (a size field that claims more than the input holds
 * must be refused, not allocated). The fuzz targets call {@link #check} once per input from their test thread;
 * the read itself runs on a daemon thread so that a hang is reported instead of stalling the build.
 */
public final class ReaderContract {
    /** Wall-clock limit of one read: far above any sound read of a fuzz input, so only a hang trips it. */
    public static final Duration DEADLINE = Duration.ofSeconds(30);

    /** Bytes a read may allocate per input byte (decoded copies, JSON trees), and a constant on top. */
    public record Allocation(long perInputByte, long slack) {
        /** The limit for binary readers: a few copies of the input plus the parsers' fixed buffers. */
        public static final Allocation BINARY = new Allocation(64, 16L << 20);

        long limit(long inputBytes) {
            return perInputByte * inputBytes + slack;
        }
    }

    /** One read of the input. */
    @FunctionalInterface
    public interface Read<T> {
        T read() throws Exception;
    }

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static ExecutorService reader = newReader();

    private ReaderContract() {
    }

    /**
     * Runs {@code read} and checks the contract.
     *
     * @param what       the reader and input, for the failure message
     * @param inputBytes the input's size, for the allocation limit
     * @param allocation the allocation limit
     * @param typed      the exception types the reader may throw
     * @return the result, or empty when the reader refused the input with a typed one-line error
     * @throws AssertionError when the contract is broken
     */
    public static <T> Optional<T> check(String what, long inputBytes, Allocation allocation,
                                        List<Class<? extends Exception>> typed, Read<T> read) {
        long limit = allocation.limit(inputBytes);
        Outcome<T> o = run(what, read);
        if (o.allocated() > limit) {
            // a first call may load classes or let the fuzzer's hooks warm up on this thread: an allocation the
            // input causes happens again, so only a second excess counts
            o = run(what, read);
        }
        if (o.allocated() > limit) {
            throw new AssertionError(what + ": allocated " + o.allocated() + " bytes for an input of " + inputBytes
                    + " (limit " + limit + ")", o.failure());
        }
        if (o.failure() == null) {
            return Optional.ofNullable(o.result());
        }
        Throwable t = o.failure();
        if (typed.stream().noneMatch(c -> c.isInstance(t))) {
            throw new AssertionError(what + ": untyped failure " + t, t);
        }
        String m = t.getMessage();
        if (m == null || m.isBlank() || m.indexOf('\n') >= 0 || m.indexOf('\r') >= 0) {
            throw new AssertionError(what + ": the error's message is not one line: " + (m == null ? null : m.replace("\n", "\\n")), t);
        }
        return Optional.empty();
    }

    private static <T> Outcome<T> run(String what, Read<T> read) {
        Future<Outcome<T>> f = reader.submit(() -> measure(read));
        try {
            return f.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            reader.shutdownNow();
            reader = newReader();
            throw new AssertionError(what + ": no answer within " + DEADLINE + " (a hang)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(what + ": interrupted", e);
        } catch (ExecutionException e) {
            throw new AssertionError(what + ": " + e.getCause(), e.getCause());
        }
    }

    private record Outcome<T>(T result, Throwable failure, long allocated) {
    }

    private static <T> Outcome<T> measure(Read<T> read) {
        long before = THREADS.getCurrentThreadAllocatedBytes();
        T result = null;
        Throwable failure = null;
        try {
            result = read.read();
        } catch (Throwable t) { // the contract is about every throwable, errors included
            failure = t;
        }
        return new Outcome<>(result, failure, THREADS.getCurrentThreadAllocatedBytes() - before);
    }

    private static ExecutorService newReader() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fuzz-reader");
            t.setDaemon(true);
            return t;
        });
    }
}

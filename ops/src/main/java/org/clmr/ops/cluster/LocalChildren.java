package org.clmr.ops.cluster;

import org.clmr.ops.ClmrProcess;
import org.clmr.protocol.UserError;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The child processes of a local cluster ({@link LocalCluster}) and the ways they stop. Once stopping has begun,
 * nothing new is started, so a coordinator that the launcher would start again while a signal stops everything is
 * never left behind. Thread-safe: the launcher's main thread starts children; its shutdown hook (SIGINT, SIGTERM)
 * and the main thread's end stop them.
 */
final class LocalChildren {
    private final List<Process> all = new ArrayList<>();
    private final List<Process> workers = new ArrayList<>();
    private boolean stopping;

    /**
     * Starts {@code clmr args...}, its output appended to {@code log}.
     *
     * @throws UserError when stopping has begun
     */
    synchronized Process start(List<String> args, Path log) {
        if (stopping) {
            throw new UserError("the local cluster is stopping; not starting clmr " + args.get(0) + " (log " + log
                    + ")");
        }
        Process p = ClmrProcess.of(args).output(log).start();
        all.add(p);
        return p;
    }

    /** Starts a worker: like {@link #start}, and it is drained before the others stop. */
    synchronized Process startWorker(List<String> args, Path log) {
        Process p = start(args, log);
        workers.add(p);
        return p;
    }

    /** Whether stopping has begun: a process that exits now was stopped, and is not started again. */
    synchronized boolean stopping() {
        return stopping;
    }

    /**
     * Drains the workers (SIGTERM: each leaves at its next plan boundary, the last one after a checkpoint of the
     * step it holds) within {@code timeout}, then stops every process ({@link #stopAll}).
     */
    void drainThenStop(Duration timeout) {
        List<Process> ws = beginStopping(workers);
        if (ws.stream().anyMatch(Process::isAlive)) {
            System.err.println("clmr train: stopping the local cluster: draining the workers (up to "
                    + timeout.toSeconds() + " s; the last one checkpoints the step it holds)");
            ws.forEach(p -> p.toHandle().destroy());
            awaitAll(ws, timeout);
        }
        stopAll(Duration.ofSeconds(10));
    }

    /** SIGTERM to every process still alive, SIGKILL to those still alive after {@code grace}. */
    void stopAll(Duration grace) {
        List<Process> ps = beginStopping(all);
        ps.forEach(Process::destroy);
        if (!awaitAll(ps, grace)) {
            ps.forEach(Process::destroyForcibly);
        }
    }

    /**
     * Stops every process without a drain, for a cluster whose coordinator is gone for good: a draining worker
     * waits for a coordinator to hand its state to, which would only delay the end. A worker takes a second
     * SIGTERM as "stop at once"; the second is sent a second after the first, so the two are not merged into one
     * pending signal. SIGKILL follows for any process still alive after {@code grace}.
     */
    void stopAtOnce(Duration grace) {
        List<Process> ps = beginStopping(all);
        ps.forEach(Process::destroy);
        if (!awaitAll(ps, Duration.ofSeconds(1))) {
            ps.forEach(Process::destroy);
            if (!awaitAll(ps, grace)) {
                ps.forEach(Process::destroyForcibly);
            }
        }
    }

    private synchronized List<Process> beginStopping(List<Process> which) {
        stopping = true;
        return List.copyOf(which);
    }

    /** Waits until each process has exited or {@code timeout} has passed; whether all have exited. */
    private static boolean awaitAll(List<Process> ps, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Process p : ps) {
            try {
                if (!p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    return false;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }
}

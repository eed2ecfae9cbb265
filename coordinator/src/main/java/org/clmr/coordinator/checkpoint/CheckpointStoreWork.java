package org.clmr.coordinator.checkpoint;

import org.clmr.coordinator.journal.RunData;
import org.clmr.coordinator.lifecycle.StoredRun;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.checkpoint.CheckpointStore;
import org.clmr.protocol.checkpoint.RetentionPolicy;
import org.clmr.protocol.cluster.IfRunExists;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * The coordinator's blocking work on the checkpoint store, run off the actor's thread (on Akka's blocking
 * dispatcher): reading a written checkpoint back, and pruning what the run's retention no longer keeps.
 */
public final class CheckpointStoreWork {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointStoreWork.class);

    private final CheckpointStore store;
    private final Executor blocking;

    /** Work on {@code store}, run by {@code blocking}. */
    public CheckpointStoreWork(CheckpointStore store, Executor blocking) {
        this.store = store;
        this.blocking = blocking;
    }

    /** Reads {@code record} of {@code run} back ({@link CheckpointVerifier}); completes with it when it is whole. */
    public CompletableFuture<CheckpointRecord> verify(RunData run, CheckpointRecord record) {
        String runId = run.runId();
        String specHash = run.spec().hash();
        return CompletableFuture.supplyAsync(() -> CheckpointVerifier.verify(store, record, runId, specHash), blocking);
    }

    /** What the store holds of run {@code runId}, archived or dropped as {@code existing} says ({@link StoredRun}). */
    public CompletableFuture<StoredRun> lookUp(String runId, IfRunExists existing) {
        return CompletableFuture.supplyAsync(() -> StoredRun.lookUp(store, runId, existing), blocking);
    }

    /** Deletes the run's checkpoints its retention policy no longer keeps; a failure is logged, never fatal. */
    public void prune(RunData run) {
        RetentionPolicy policy = RetentionPolicy.of(run.spec().checkpoint());
        String runId = run.runId();
        CompletableFuture.runAsync(() -> store.prune(runId, policy), blocking).whenComplete((ok, err) -> {
            if (err != null) {
                LOG.warn("pruning checkpoints of run {} failed: {}", runId, rootMessage(err));
            }
        });
    }

    /** The innermost message of a failure: what went wrong, without the wrappers around it. */
    public static String rootMessage(Throwable t) {
        Throwable e = t;
        while (e.getCause() != null) {
            e = e.getCause();
        }
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }
}

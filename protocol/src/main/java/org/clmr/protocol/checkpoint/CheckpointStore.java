package org.clmr.protocol.checkpoint;

import java.util.List;
import java.util.Optional;

/**
 * Durable checkpoints of a run. A {@link #write} returns only after the payload was stored and read back
 * with the same size and SHA-256: its record may then be committed as a resume point. Implementations:
 * a directory, and a JDBC table in the coordinator's database. Thread-safe.
 */
public interface CheckpointStore extends AutoCloseable {

    /**
     * Stores, then verifies, one checkpoint payload.
     *
     * @return the verified record
     * @throws CheckpointCorruptException if what was read back differs from what was written
     * @throws CheckpointWriteException   if it could not be stored; nothing of it is left in the store
     */
    CheckpointRecord write(String runId, long step, int epoch, long generation, String runSpecHash, byte[] payload);

    /** The payload, checked against the record's size and SHA-256. */
    byte[] read(CheckpointRecord record);

    /** Every checkpoint of a run, oldest step first. */
    List<CheckpointRecord> list(String runId);

    /** The checkpoint of a run at a step, if stored. */
    default Optional<CheckpointRecord> find(String runId, long step) {
        return list(runId).stream().filter(r -> r.step() == step).findFirst();
    }

    /** The newest checkpoint of a run, if any. */
    default Optional<CheckpointRecord> latest(String runId) {
        List<CheckpointRecord> all = list(runId);
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    /** Removes one checkpoint. */
    void delete(CheckpointRecord record);

    /**
     * Gives every checkpoint of run {@code runId} to run {@code newRunId} (which must have none), so that a run
     * started afresh under {@code runId} neither sees nor prunes them.
     *
     * @return how many were moved
     */
    int rename(String runId, String newRunId);

    /** Deletes every checkpoint of a run; returns how many. */
    default int deleteAll(String runId) {
        List<CheckpointRecord> all = list(runId);
        all.forEach(this::delete);
        return all.size();
    }

    /** Applies a retention policy; returns what was deleted. */
    default List<CheckpointRecord> prune(String runId, RetentionPolicy policy) {
        List<CheckpointRecord> doomed = policy.toDelete(list(runId));
        doomed.forEach(this::delete);
        return doomed;
    }

    @Override
    default void close() {
    }
}

package org.clmr.coordinator.checkpoint;

import org.clmr.coordinator.desk.Classification;
import org.clmr.protocol.checkpoint.CheckpointRecord;

/**
 * One checkpoint asked of rank 0, from the request to its commit, as Flink's {@code PendingCheckpoint}: it is
 * {@link Stage#PENDING} until rank 0 reports it {@link Stage#WRITTEN}, then the coordinator reads it back
 * ({@link Stage#VERIFIED}) and persists it ({@link Stage#COMMITTED}); a write or a verification that fails ends
 * it {@link Stage#FAILED}. Each acknowledgement is classified like every message that may arrive late or twice
 * (as Flink's {@code TaskAcknowledgeResult}): an acknowledgement of this round in the stage that expects it is
 * accepted, a repeated one a duplicate, one of another round unknown to it.
 *
 * <p>In memory only: a round open when the coordinator's incarnation ends is lost, and the checkpoint is asked
 * again at the next checkpoint step. Used on the coordinator actor's thread.
 */
public final class CheckpointRound {
    /** Where a round is. */
    public enum Stage {
        /** Asked of rank 0. */
        PENDING,
        /** Rank 0 reports it written; the coordinator reads it back. */
        WRITTEN,
        /** Read back and found whole; its commit event is being persisted. */
        VERIFIED,
        /** Persisted: a resume point. */
        COMMITTED,
        /** Not written, or not whole when read back. */
        FAILED
    }

    private final long id;
    private final long step;
    private final long generation;
    private Stage stage = Stage.PENDING;
    private CheckpointRecord record;
    private String failure;

    /** A round just asked of rank 0. */
    public CheckpointRound(long id, long step, long generation) {
        this.id = id;
        this.step = step;
        this.generation = generation;
    }

    /** Rank 0 reports checkpoint {@code checkpointId} written as {@code written}. */
    public Classification written(long checkpointId, CheckpointRecord written) {
        if (checkpointId != id) {
            return Classification.UNKNOWN;
        }
        if (stage != Stage.PENDING || written.step() != step) {
            return Classification.DUPLICATE;
        }
        stage = Stage.WRITTEN;
        record = written;
        return Classification.ACCEPTED;
    }

    /** The coordinator read it back: whole when {@code problem} is null. */
    public Classification verified(long checkpointId, String problem) {
        if (checkpointId != id) {
            return Classification.UNKNOWN;
        }
        if (stage != Stage.WRITTEN) {
            return Classification.DUPLICATE;
        }
        stage = problem == null ? Stage.VERIFIED : Stage.FAILED;
        failure = problem;
        return Classification.ACCEPTED;
    }

    /** Rank 0 could not write it. */
    public Classification notWritten(long checkpointId, String reason) {
        if (checkpointId != id) {
            return Classification.UNKNOWN;
        }
        if (stage == Stage.COMMITTED || stage == Stage.FAILED) {
            return Classification.DUPLICATE;
        }
        stage = Stage.FAILED;
        failure = reason;
        return Classification.ACCEPTED;
    }

    /** Its commit event was persisted. */
    public Classification committed(long checkpointId) {
        if (checkpointId != id) {
            return Classification.UNKNOWN;
        }
        if (stage != Stage.VERIFIED) {
            return Classification.DUPLICATE;
        }
        stage = Stage.COMMITTED;
        return Classification.ACCEPTED;
    }

    /** The round's checkpoint id. */
    public long id() {
        return id;
    }

    /** The step it saves. */
    public long step() {
        return step;
    }

    /** The generation it was asked in. */
    public long generation() {
        return generation;
    }

    /** Where it is. */
    public Stage stage() {
        return stage;
    }

    /** What rank 0 reported written, or null before. */
    public CheckpointRecord record() {
        return record;
    }

    /** Why it failed, or null. */
    public String failure() {
        return failure;
    }

    @Override
    public String toString() {
        return "checkpoint " + id + " of step " + step + " (generation " + generation + ", " + stage + ")";
    }
}

package org.clmr.coordinator.desk;

/**
 * What the coordinator tolerates. Membership failures never stop a run (survivors continue, or it waits
 * for workers); repeated checkpoint failures pause it, since training on without durable state risks
 * losing everything to the next failure.
 *
 * @param maxCheckpointFailures consecutive failed checkpoints that pause the run
 */
public record TolerancePolicy(int maxCheckpointFailures) {

    public TolerancePolicy {
        if (maxCheckpointFailures < 1) {
            throw new IllegalArgumentException("maxCheckpointFailures must be >= 1, was " + maxCheckpointFailures);
        }
    }

    /** What to do after a checkpoint failed. */
    public enum CheckpointDecision {
        /** Ask again at the next checkpoint step. */
        RETRY_LATER,
        /** Pause the run until an operator resumes it. */
        PAUSE_RUN
    }

    /** The decision after {@code consecutiveFailures} checkpoint failures in a row (this one included). */
    public CheckpointDecision onCheckpointFailure(int consecutiveFailures) {
        return consecutiveFailures >= maxCheckpointFailures ? CheckpointDecision.PAUSE_RUN : CheckpointDecision.RETRY_LATER;
    }

    /**
     * Whom a collective timeout evicts. The silent ranks, unless they are a majority of a generation of
     * three or more: then the reporter itself is the likelier one to be cut off.
     *
     * @param members     members of the generation
     * @param silentCount distinct silent ranks reported (the reporter excluded)
     * @return true: evict the silent ranks; false: evict the reporter
     */
    public boolean evictSilent(int members, int silentCount) {
        return members <= 2 || silentCount * 2 < members;
    }
}

package org.clmr.coordinator.journal;

/** Why a worker stopped being a member (or a registered joiner) of the run. */
public enum FailureReason {
    /** It sent {@code Leave}: an orderly shutdown. */
    LEFT,
    /** Its actor terminated: its node was downed by the Split Brain Resolver and removed, or it stopped. */
    TERMINATED,
    /** A peer's collective timed out waiting for it. */
    PEER_TIMEOUT,
    /** It registered again from a new incarnation (same worker id, new actor). */
    RESTARTED,
    /**
     * It registered with an earlier incarnation of the coordinator and its node is not in the cluster the
     * recovered coordinator runs in (the coordinator's node was restarted); it re-registers as a new worker.
     */
    LOST_WITH_COORDINATOR,
    /** It was drained ({@code DrainWorker}): removed at a plan boundary, the others going on from that step. */
    DRAINED
}

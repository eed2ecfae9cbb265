package org.clmr.coordinator.journal;

/** The coordinator's phases; the gauge {@code clmr_run_phase{phase}} is 1 for the current one. */
public enum RunPhase {
    /** No run: waiting for an operator's start. */
    IDLE,
    /** A run is started but has no members: waiting for workers to register. */
    WAITING_FOR_WORKERS,
    /** Members are training. */
    RUNNING,
    /** An operator (or the tolerance policy) paused the run; members wait at a plan boundary. */
    PAUSED,
    /** The run finished or was stopped. */
    COMPLETED
}

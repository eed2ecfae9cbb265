package org.clmr.worker.actor;

/**
 * Where a {@link WorkerActor} stands with its run. One transition point in the actor logs every change
 * ({@code old -> new (reason, generation N)}) and sets the gauge {@code clmr_worker_phase{phase}}.
 */
public enum WorkerPhase {
    /** Registering with the coordinator, repeated every tick until answered. */
    REGISTERING,
    /** The coordinator has no run in progress (none started, or the last one over): registering every tick until one starts. */
    WAITING_FOR_RUN,
    /** Accepted; not (yet) a member of a generation. */
    REGISTERED,
    /** A generation was handed to the training thread, which is taking up its state. */
    ADOPTING,
    /** Running a plan's steps. */
    TRAINING,
    /** At a plan boundary: the last progress is repeated every tick, so a lost plan is sent again. */
    AT_BOUNDARY,
    /** Asked the coordinator to let it leave (a drain), repeated every tick until answered; training goes on meanwhile. */
    DRAINING,
    /** The coordinator will let it leave at the next plan boundary; waiting for its {@code Stop}. */
    DRAIN_ACCEPTED,
    /** Its part in the run is over (stopped, drained, refused or failed); the process is told and leaves. */
    FINISHED
}

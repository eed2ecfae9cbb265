package org.clmr.coordinator.desk;

/** How the coordinator classifies a report or reply that may arrive late or twice. */
public enum Classification {
    /** Expected now: acted on. */
    ACCEPTED,
    /** Already seen (same generation, step or checkpoint id): answered idempotently or ignored. */
    DUPLICATE,
    /** From an older generation: ignored. */
    STALE,
    /** From a worker, generation or checkpoint the coordinator does not know: ignored. */
    UNKNOWN
}

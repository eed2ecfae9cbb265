package org.clmr.worker.collective;

/**
 * Identifies one collective operation: the membership generation, the training step and the operation's
 * sequence number within the step (every rank issues the same operations in the same order).
 */
public record OpTag(long generation, long step, int sequence) {
}

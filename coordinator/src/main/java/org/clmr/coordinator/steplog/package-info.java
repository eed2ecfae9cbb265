/**
 * The per-step training log of a cluster run ({@link org.clmr.coordinator.steplog.ProgressLog}): the members'
 * progress reports, gathered per step into one row of {@code RUN_DIR/steps-RUN_ID.csv}
 * ({@link org.clmr.protocol.steplog.StepLog}). Not part of the journal: a log beside it, like the metrics.
 * Depends on {@code journal}.
 */
package org.clmr.coordinator.steplog;

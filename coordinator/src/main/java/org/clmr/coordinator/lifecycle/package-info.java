/**
 * A run's lifecycle as operators drive it: start (a run id is never reused silently: an existing one is refused,
 * resumed from its newest checkpoint, or started afresh with its checkpoints archived or dropped), pause, resume
 * and stop ({@link org.clmr.coordinator.lifecycle.RunLifecycle}), and what the checkpoint store holds of a run id
 * ({@link org.clmr.coordinator.lifecycle.StoredRun}). A desk: it returns decisions. Depends on {@code desk},
 * {@code journal} and {@code membership}.
 */
package org.clmr.coordinator.lifecycle;

/**
 * Where a checkpoint is committed: the checkpoint desk ({@link org.clmr.coordinator.checkpoint.Checkpoints}) opens a
 * {@link org.clmr.coordinator.checkpoint.CheckpointRound} (pending, written, verified, committed or failed), the
 * coordinator reads the written checkpoint back ({@link org.clmr.coordinator.checkpoint.CheckpointVerifier}), and
 * only then is it committed as an event. Depends on {@code desk} and {@code journal}.
 */
package org.clmr.coordinator.checkpoint;

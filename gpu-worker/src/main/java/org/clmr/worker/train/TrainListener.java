package org.clmr.worker.train;

import org.clmr.protocol.checkpoint.CheckpointRecord;

/** What a {@link Trainer} reports as it goes; called on the training thread. All methods default to no-ops. */
public interface TrainListener {

    /** After every step (applied or skipped). */
    default void onStep(StepReport report) {
    }

    /** Every {@code log-every-steps} steps and at the end. */
    default void onInterval(Trainer.IntervalReport report) {
    }

    /** After a checkpoint was written and verified. */
    default void onCheckpoint(CheckpointRecord record, String fingerprint) {
    }

    /** When training resumed from a checkpoint. */
    default void onResume(CheckpointRecord record, String fingerprint) {
    }
}

package org.clmr.worker.train;

import org.clmr.protocol.checkpoint.CheckpointRecord;

import java.util.List;

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

    /** A listener that tells each of {@code listeners}, in order. */
    static TrainListener all(TrainListener... listeners) {
        List<TrainListener> each = List.of(listeners);
        return new TrainListener() {
            @Override
            public void onStep(StepReport report) {
                each.forEach(l -> l.onStep(report));
            }

            @Override
            public void onInterval(Trainer.IntervalReport report) {
                each.forEach(l -> l.onInterval(report));
            }

            @Override
            public void onCheckpoint(CheckpointRecord record, String fingerprint) {
                each.forEach(l -> l.onCheckpoint(record, fingerprint));
            }

            @Override
            public void onResume(CheckpointRecord record, String fingerprint) {
                each.forEach(l -> l.onResume(record, fingerprint));
            }
        };
    }
}

package org.clmr.worker.train;

/** Receives what the {@link TrainingLoop} reports, on the training thread; it must not train the model itself. */
public interface StepListener {

    /** After every step, applied or skipped. */
    void onStep(StepReport report);

    /** A batch could not be read or augmented; the step then fails with {@code error}. */
    default void onDataError(RuntimeException error) {
    }
}

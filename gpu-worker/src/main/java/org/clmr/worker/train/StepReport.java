package org.clmr.worker.train;

import org.clmr.protocol.cluster.CoordinatorProtocol.StepTimes;
import org.clmr.worker.step.DistributedStep;

/**
 * What one step of the {@link TrainingLoop} did, on this process; the loop's one output per step, which
 * each driver turns into what it reports (a progress line, a {@code Progress} to the coordinator).
 *
 * @param generation the membership generation it ran in (0 in a single process)
 * @param step       steps completed after it
 * @param epoch      its epoch
 * @param share      tracks of the global batch this process computed
 * @param result     the global loss, whether the weights were updated (or why not), the phases' times
 * @param wallNs     its wall time on this process, loading the data included
 * @param skipped    steps of the run skipped so far (this one included)
 * @param fingerprint the state's fingerprint after it, equal on every rank: the weights' SHA-256 at the end
 *                    of a plan, a chained hash of the plan's steps inside it (see {@code StateFingerprint})
 */
public record StepReport(long generation, long step, int epoch, int share, DistributedStep.Result result, long wallNs,
                         long skipped, String fingerprint) {

    /** The global NT-Xent loss (the same on every rank). */
    public double loss() {
        return result.loss();
    }

    /** Whether the weights were updated. */
    public boolean applied() {
        return result.applied();
    }

    /** Why the step was skipped (non-finite loss or gradient), or null. */
    public String skipReason() {
        return result.skipReason();
    }

    /** This process's tracks per second in this step. */
    public double samplesPerSecond() {
        return share / Math.max(wallNs / 1e9, 1e-9);
    }

    /** Where the step's time went on this process, as a progress report and the per-step log carry it. */
    public StepTimes times() {
        DistributedStep.Phases p = result.phases();
        return new StepTimes(p.dataNs(), p.forwardNs(), p.lossNs(), p.communicationNs(), p.backwardNs(), p.optimizerNs(),
                wallNs);
    }
}

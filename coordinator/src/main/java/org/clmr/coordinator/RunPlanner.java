package org.clmr.coordinator;

import org.clmr.coordinator.journal.CoordinatorEvent.GenerationStarted;
import org.clmr.coordinator.journal.RunData;
import org.clmr.coordinator.journal.WorkerInfo;
import org.clmr.protocol.cluster.CoordinatorProtocol.HeldState;
import org.clmr.protocol.cluster.CoordinatorProtocol.Plan;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumePoint;
import org.slf4j.Logger;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The coordinator's decisions about a run's shape, free of effects: who is in a new generation and with
 * which shares, where it resumes, whether shares are worth re-balancing, and where plans end. Reads the
 * in-memory progress; runs on the coordinator actor's thread.
 */
final class RunPlanner {
    private final CoordinatorSettings settings;
    private final ProgressTracker progress;
    private final Logger log;

    RunPlanner(CoordinatorSettings settings, ProgressTracker progress, Logger log) {
        this.settings = settings;
        this.progress = progress;
        this.log = log;
    }

    /** A new generation of these candidates (as many as the batch can feed), from the newest state. */
    GenerationStarted generation(RunData run, List<WorkerInfo> candidates, String why, Instant now) {
        List<WorkerInfo> members = shares(run, candidates);
        return new GenerationStarted(run.generation() + 1, members, newestState(run, members), why, now);
    }

    List<WorkerInfo> shares(RunData run, List<WorkerInfo> candidates) {
        int n = Math.min(candidates.size(), ShareCalculator.maxWorkers(run.spec().globalBatch()));
        double[] tp = new double[n];
        for (int i = 0; i < n; i++) {
            WorkerInfo w = candidates.get(i);
            tp[i] = progress.throughput(w.workerId(), w.samplesPerSecond());
        }
        int[] shares = ShareCalculator.split(run.spec().globalBatch(), tp);
        List<WorkerInfo> members = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            members.add(candidates.get(i).withShare(shares[i], tp[i]));
        }
        return members;
    }

    /**
     * Where a generation of these members starts: the newest verified state a member holds (its last report
     * in any generation of this run, or what it declared when it registered), unless the newest committed
     * checkpoint is newer; with neither, the run starts fresh from its seed (see {@link ResumeChoice}).
     */
    private ResumePoint newestState(RunData run, List<WorkerInfo> members) {
        List<ResumeChoice.Held> held = new ArrayList<>();
        for (int i = 0; i < members.size(); i++) {
            WorkerInfo w = members.get(i);
            long step = -1;
            String fingerprint = null;
            Optional<ProgressTracker.Reported> r = progress.get(w.workerId());
            if (r.isPresent()) {
                step = r.get().step();
                fingerprint = r.get().weightsFingerprint();
            }
            HeldState h = w.held();
            boolean ofThisRun = h != null && h.runId().equals(run.runId()) && h.specHash().equals(run.spec().hash());
            if (ofThisRun && h.step() > step) {
                step = h.step();
                fingerprint = h.weightsFingerprint();
            }
            if (step > 0 && fingerprint != null) {
                held.add(new ResumeChoice.Held(i, step, fingerprint));
            }
        }
        ResumeChoice.Decision d = ResumeChoice.choose(held, run.lastCheckpoint(), run.stepsPerEpoch());
        if (!d.contradicted().isEmpty()) {
            log.warn("members disagree on the weights after steps {}; not resuming from those", d.contradicted());
        }
        return d.resume();
    }

    /** Whether the members' measured throughputs call for new shares. */
    boolean worthRebalancing(RunData run) {
        int n = run.members().size();
        int[] current = new int[n];
        double[] tp = new double[n];
        for (int i = 0; i < n; i++) {
            WorkerInfo w = run.members().get(i);
            current[i] = w.share();
            tp[i] = progress.throughput(w.workerId(), w.samplesPerSecond());
        }
        return ShareCalculator.worthRebalancing(run.spec().globalBatch(), current, tp, settings.rebalanceThreshold());
    }

    Plan plan(RunData run, long from) {
        return new Plan(run.generation(), from, nextBoundary(run, from, settings.planSteps()));
    }

    /** The first step after {@code from} where a plan ends: plan length, checkpoint, epoch end, run end. */
    static long nextBoundary(RunData run, long from, int planSteps) {
        long b = Math.min(run.totalSteps(), nextMultiple(from, planSteps));
        b = Math.min(b, nextMultiple(from, run.spec().checkpoint().everySteps()));
        return Math.min(b, nextMultiple(from, run.stepsPerEpoch()));
    }

    /** Whether a plan ends at {@code step} (see {@link #nextBoundary}). */
    boolean isBoundary(RunData run, long step) {
        return step > 0 && (step >= run.totalSteps() || step % settings.planSteps() == 0
                || step % run.spec().checkpoint().everySteps() == 0 || step % run.stepsPerEpoch() == 0);
    }

    private static long nextMultiple(long from, long m) {
        return (from / m + 1) * m;
    }

    static int epochOf(RunData run, long step) {
        return (int) (step / run.stepsPerEpoch());
    }
}

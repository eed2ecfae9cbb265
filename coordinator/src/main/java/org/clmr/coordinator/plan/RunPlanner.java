package org.clmr.coordinator.plan;

import org.clmr.coordinator.desk.Decision;
import org.clmr.coordinator.journal.CoordinatorEvent.GenerationStarted;
import org.clmr.coordinator.journal.RunData;
import org.clmr.coordinator.journal.WorkerInfo;
import org.clmr.protocol.cluster.CoordinatorProtocol.HeldState;
import org.clmr.protocol.cluster.CoordinatorProtocol.Plan;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The coordinator's rules for a run's shape, free of effects: who is in a new generation and with which
 * shares, where it resumes, whether shares are worth re-balancing, and where plans end. Reads the in-memory
 * progress; runs on the coordinator actor's thread.
 */
public final class RunPlanner {
    private final int planSteps;
    private final double rebalanceThreshold;
    private final ProgressTracker progress;

    /**
     * @param planSteps          longest plan
     * @param rebalanceThreshold minimum predicted step-time gain for new shares
     * @param progress           the members' reports (throughputs and the states they hold)
     */
    public RunPlanner(int planSteps, double rebalanceThreshold, ProgressTracker progress) {
        this.planSteps = planSteps;
        this.rebalanceThreshold = rebalanceThreshold;
        this.progress = progress;
    }

    /**
     * A new generation of these candidates (as many as the batch can feed) from the newest state they hold,
     * with a warning when members disagree on the weights of a step.
     */
    public Decision generation(RunData run, List<WorkerInfo> candidates, String why, Instant now) {
        List<WorkerInfo> members = shares(run, candidates);
        ResumeChoice.Choice resume = newestState(run, members);
        Decision d = Decision.persist(new GenerationStarted(run.generation() + 1, members, resume.resume(), why, now));
        return resume.contradicted().isEmpty() ? d : d.warn("members disagree on the weights after steps "
                + resume.contradicted() + "; not resuming from those");
    }

    /** These candidates, as many as the batch can feed, with shares in proportion to their throughput. */
    public List<WorkerInfo> shares(RunData run, List<WorkerInfo> candidates) {
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
    private ResumeChoice.Choice newestState(RunData run, List<WorkerInfo> members) {
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
        return ResumeChoice.choose(held, run.lastCheckpoint(), run.stepsPerEpoch());
    }

    /** Whether the members' measured throughputs call for new shares. */
    public boolean worthRebalancing(RunData run) {
        int n = run.members().size();
        int[] current = new int[n];
        double[] tp = new double[n];
        for (int i = 0; i < n; i++) {
            WorkerInfo w = run.members().get(i);
            current[i] = w.share();
            tp[i] = progress.throughput(w.workerId(), w.samplesPerSecond());
        }
        return ShareCalculator.worthRebalancing(run.spec().globalBatch(), current, tp, rebalanceThreshold);
    }

    /** The plan of this generation from {@code from} to the next boundary. */
    public Plan plan(RunData run, long from) {
        return new Plan(run.generation(), from, nextBoundary(run, from));
    }

    /** The first step after {@code from} where a plan ends: plan length, checkpoint, epoch end, run end. */
    public long nextBoundary(RunData run, long from) {
        long b = Math.min(run.totalSteps(), nextMultiple(from, planSteps));
        b = Math.min(b, nextMultiple(from, run.spec().checkpoint().everySteps()));
        return Math.min(b, nextMultiple(from, run.stepsPerEpoch()));
    }

    /** Whether a plan ends at {@code step} (see {@link #nextBoundary}). */
    public boolean isBoundary(RunData run, long step) {
        return step > 0 && (step >= run.totalSteps() || step % planSteps == 0
                || step % run.spec().checkpoint().everySteps() == 0 || step % run.stepsPerEpoch() == 0);
    }

    private static long nextMultiple(long from, long m) {
        return (from / m + 1) * m;
    }

    /** The epoch that step {@code step} (steps completed) is in. */
    public static int epochOf(RunData run, long step) {
        return (int) (step / run.stepsPerEpoch());
    }
}

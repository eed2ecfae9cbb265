package org.clmr.coordinator.plan;

import org.clmr.coordinator.desk.Classification;
import org.clmr.coordinator.desk.Decision;
import org.clmr.coordinator.journal.CoordinatorEvent.EpochCompleted;
import org.clmr.coordinator.journal.CoordinatorEvent.GenerationStarted;
import org.clmr.coordinator.journal.CoordinatorState;
import org.clmr.coordinator.journal.CoordinatorState.Completed;
import org.clmr.coordinator.journal.CoordinatorState.Paused;
import org.clmr.coordinator.journal.CoordinatorState.Running;
import org.clmr.coordinator.journal.RunData;
import org.clmr.coordinator.journal.WorkerInfo;
import org.clmr.protocol.cluster.CoordinatorProtocol.Plan;
import org.clmr.protocol.cluster.CoordinatorProtocol.Progress;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumePoint;
import org.clmr.protocol.cluster.CoordinatorProtocol.Stop;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The desk of plan boundaries. Members run plans of steps on their own and report every step; where a plan ends
 * they wait, repeating their newest report, until the coordinator sends the next plan. This desk hears the
 * reports (classified, their weights compared, a lost plan sent again), records an epoch's end, admits joiners
 * or re-balances shares at a boundary, and plans on.
 *
 * <p>In memory only, owned by the coordinator's shell: where the members were last sent a plan from. A new
 * coordinator incarnation has none, and plans again from the first repeated report.
 * Runs on the coordinator actor's thread.
 */
public final class Boundaries {
    private final RunPlanner planner;
    private final ProgressTracker progress;
    private long plannedFrom = -1;
    private long plannedGeneration = -1;

    /**
     * @param planner  the run's shape: plans, shares, new generations
     * @param progress the members' reports, which this desk records
     */
    public Boundaries(RunPlanner planner, ProgressTracker progress) {
        this.planner = planner;
        this.progress = progress;
    }

    /**
     * What a progress report decided, and whether it reached a plan boundary the members were not planned past
     * yet (then the shell decides what happens there).
     */
    public record Heard(Decision decision, boolean newBoundary) {
    }

    /**
     * Hears a member's progress report: classified (unknown outside a run, stale from an older generation,
     * duplicate when repeated), compared with the other members' weights, and, when it repeats the step
     * the members were last planned from, answered with that plan again. A member of a completed run is told to
     * stop.
     */
    public Heard hear(CoordinatorState state, Progress p) {
        Optional<RunData> maybeRun = state.run();
        Optional<WorkerInfo> member = maybeRun.flatMap(r -> r.member(p.workerId()));
        if (member.isEmpty() || !(state instanceof Running || state instanceof Paused)) {
            Decision d = Decision.none().classified("progress", Classification.UNKNOWN);
            if (state instanceof Completed done && member.isPresent()) {
                d = d.tell(member.get().ref(), new Stop(done.data().runId(), done.stopReason()));
            }
            return new Heard(d, false);
        }
        RunData run = maybeRun.get();
        if (p.generation() != run.generation()) {
            Classification cls = p.generation() < run.generation() ? Classification.STALE : Classification.UNKNOWN;
            return new Heard(Decision.none().classified("progress", cls).debug("progress of " + p.workerId()
                    + " at step " + p.step() + " is " + cls + " (generation " + p.generation() + ", current "
                    + run.generation() + ")"), false);
        }
        Classification cls = progress.record(p, member.get().samplesPerSecond());
        Decision d = Decision.none().classified("progress", cls);
        if (cls == Classification.ACCEPTED) {
            Optional<String> other = progress.divergentFrom(p);
            if (other.isPresent()) {
                d = d.count(Decision.Incident.WEIGHTS_DIVERGED).warn("weights diverged at step " + p.step()
                        + " of generation " + p.generation() + ": " + p.workerId() + " has " + p.weightsFingerprint()
                        + ", " + other.get());
            }
        }
        boolean boundary = planner.isBoundary(run, p.step()) || p.step() == run.resume().step();
        if (!boundary || !(state instanceof Running)) {
            return new Heard(d, false);
        }
        boolean alreadyPlanned = plannedGeneration == run.generation() && p.step() <= plannedFrom;
        if (alreadyPlanned && p.step() == plannedFrom) {
            d = d.tell(member.get().ref(), planner.plan(run, p.step()));
        }
        return new Heard(d, !alreadyPlanned);
    }

    /** At a boundary at {@code step}: the epoch it ends, if it ends one that is not recorded yet. */
    public Decision epochEnd(RunData run, long step, Instant now) {
        long spe = run.stepsPerEpoch();
        if (step % spe == 0 && step / spe > run.committedEpoch()) {
            return Decision.persist(new EpochCompleted((int) (step / spe - 1), step, now));
        }
        return Decision.none();
    }

    /**
     * At a boundary at {@code step}: a new generation when workers wait to join or the members' throughputs
     * call for new shares, broadcast from the reporter's state; empty when the members should plan on as they are.
     */
    public Optional<Decision> regroup(RunData run, long step, String reporter, Instant now) {
        String why;
        if (!run.pending().isEmpty()) {
            why = "joined at step " + step + ": " + run.pending().stream().map(WorkerInfo::workerId).toList();
        } else if (planner.worthRebalancing(run)) {
            why = "re-balanced shares at step " + step;
        } else {
            return Optional.empty();
        }
        List<WorkerInfo> candidates = new ArrayList<>(run.members());
        candidates.addAll(run.pending());
        List<WorkerInfo> members = planner.shares(run, candidates);
        int rank = Math.max(0, run.rankOf(reporter));
        return Optional.of(Decision.persist(new GenerationStarted(run.generation() + 1, members,
                ResumePoint.fromRank(step, RunPlanner.epochOf(run, step), rank), why, now)));
    }

    /** The next plan, from {@code step}, for every member; remembered so that a repeated report gets it again. */
    public Decision planFrom(RunData run, long step) {
        plannedFrom = step;
        plannedGeneration = run.generation();
        Plan plan = planner.plan(run, step);
        Decision d = Decision.none();
        for (WorkerInfo w : run.members()) {
            d = d.tell(w.ref(), plan);
        }
        return d;
    }

    /** Where the members' current plan ends (the generation's start while it has none yet). */
    public long nextBoundary(RunData run) {
        return plannedGeneration == run.generation() ? planner.nextBoundary(run, plannedFrom) : run.resume().step();
    }
}

package org.clmr.coordinator.membership;

import org.clmr.coordinator.desk.Classification;
import org.clmr.coordinator.desk.Decision;
import org.clmr.coordinator.journal.CoordinatorEvent.GenerationStarted;
import org.clmr.coordinator.journal.CoordinatorEvent.WorkerRemoved;
import org.clmr.coordinator.journal.CoordinatorState;
import org.clmr.coordinator.journal.CoordinatorState.Completed;
import org.clmr.coordinator.journal.CoordinatorState.Running;
import org.clmr.coordinator.journal.FailureReason;
import org.clmr.coordinator.journal.RunData;
import org.clmr.coordinator.journal.WorkerInfo;
import org.clmr.coordinator.plan.RunPlanner;
import org.clmr.protocol.cluster.CoordinatorProtocol.DrainWorker;
import org.clmr.protocol.cluster.CoordinatorProtocol.OperatorReply;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumePoint;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The draining desk: a worker leaves without the run losing a step. A member of a running run leaves at the next
 * plan boundary, where every member holds the same completed step, and the others go on from that step; a joiner,
 * or a member of a run that is not running, leaves at once. The last member is never drained (the run would fall
 * back to its last checkpoint).
 *
 * <p>In memory only, owned by the coordinator's shell: the members to drain at the next boundary. A draining
 * worker repeats its request until it is stopped, so a new coordinator incarnation hears it again.
 * Runs on the coordinator actor's thread.
 */
public final class Draining {
    private final RunPlanner planner;
    private final Set<String> draining = new LinkedHashSet<>();

    /** A desk whose next generations take shares from {@code planner}. */
    public Draining(RunPlanner planner) {
        this.planner = planner;
    }

    /**
     * An operator (or the worker itself, on SIGTERM) asks to drain a worker.
     *
     * @param boundary the step where the members' current plan ends
     */
    public Decision request(CoordinatorState state, DrainWorker c, long boundary, Instant now) {
        Optional<RunData> maybeRun = state.run();
        if (maybeRun.isEmpty() || state instanceof Completed) {
            return refuse(c, "no active run to drain worker " + c.workerId() + " from (phase " + state.phase() + ")");
        }
        RunData run = maybeRun.get();
        boolean member = run.member(c.workerId()).isPresent();
        if (!member && run.joiner(c.workerId()).isEmpty()) {
            return refuse(c, "worker " + c.workerId() + " is not in run " + run.runId() + " (members "
                    + run.members().stream().map(WorkerInfo::workerId).toList() + ", joining "
                    + run.pending().stream().map(WorkerInfo::workerId).toList() + "): take the id from `clmr status`");
        }
        if (!member || !(state instanceof Running)) {
            return Decision.persist(new WorkerRemoved(c.workerId(), FailureReason.DRAINED, now))
                    .classified("drain", Classification.ACCEPTED)
                    .reply(c.replyTo(), new OperatorReply(true, "worker " + c.workerId() + " drained at once (it was"
                            + " not training a plan: " + (member ? "run " + state.phase() : "joining") + ")"));
        }
        if (draining.contains(c.workerId())) {
            return Decision.none().classified("drain", Classification.DUPLICATE).reply(c.replyTo(), new OperatorReply(
                    true, "worker " + c.workerId() + " is draining: it leaves at the next plan boundary"));
        }
        long staying = run.members().stream()
                .filter(w -> !draining.contains(w.workerId()) && !w.workerId().equals(c.workerId())).count();
        if (staying == 0) {
            return refuse(c, "worker " + c.workerId() + " is the last member of run " + run.runId() + ": draining it"
                    + " would send the run back to its last checkpoint; start another worker first, or pause the run"
                    + " (`clmr control pause`)");
        }
        draining.add(c.workerId());
        return Decision.none().classified("drain", Classification.ACCEPTED)
                .info("draining " + c.workerId() + ": it leaves at the plan boundary of step " + boundary)
                .reply(c.replyTo(), new OperatorReply(true, "worker " + c.workerId()
                        + " leaves at the next plan boundary (step " + boundary + ")"));
    }

    private static Decision refuse(DrainWorker c, String why) {
        return Decision.none().reply(c.replyTo(), new OperatorReply(false, why));
    }

    /** Whether a member of {@code run} is to leave at the next boundary. */
    public boolean anyIn(RunData run) {
        return run.members().stream().anyMatch(w -> draining.contains(w.workerId()));
    }

    /** Whether this worker is to leave at the next boundary. */
    public boolean isDraining(String workerId) {
        return draining.contains(workerId);
    }

    /**
     * The members hold {@code step}, a plan boundary, and some are draining: the next generation is the others
     * (and any joiners) from this step, broadcast by {@code reporter}, which must be staying. (A report from a
     * draining member is not enough, as only a staying member may broadcast; the others repeat their report while
     * they wait, so one comes.)
     */
    public Decision atBoundary(RunData run, long step, String reporter, Instant now) {
        List<String> leaving = new ArrayList<>();
        List<WorkerInfo> candidates = new ArrayList<>();
        Decision d = Decision.none();
        for (WorkerInfo w : run.members()) {
            if (draining.contains(w.workerId())) {
                leaving.add(w.workerId());
                d = d.and(Decision.persist(new WorkerRemoved(w.workerId(), FailureReason.DRAINED, now)));
            } else {
                candidates.add(w);
            }
        }
        candidates.addAll(run.pending());
        List<WorkerInfo> members = planner.shares(run, candidates);
        int rank = 0;
        for (int i = 0; i < members.size(); i++) {
            if (members.get(i).workerId().equals(reporter)) {
                rank = i;
            }
        }
        return d.and(Decision.persist(new GenerationStarted(run.generation() + 1, members,
                ResumePoint.fromRank(step, RunPlanner.epochOf(run, step), rank), "drained at step " + step + ": "
                + leaving, now)));
    }

    /** A worker is gone: it is no longer to be drained. */
    public void forget(String workerId) {
        draining.remove(workerId);
    }

    /** A new run starts: nobody is draining. */
    public void clear() {
        draining.clear();
    }
}

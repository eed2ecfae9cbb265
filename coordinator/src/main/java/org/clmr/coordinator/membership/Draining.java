package org.clmr.coordinator.membership;

import org.clmr.coordinator.desk.Classification;
import org.clmr.coordinator.desk.Decision;
import org.clmr.coordinator.journal.CoordinatorEvent.GenerationStarted;
import org.clmr.coordinator.journal.CoordinatorEvent.WorkerRemoved;
import org.clmr.coordinator.journal.CoordinatorState;
import org.clmr.coordinator.journal.CoordinatorState.Completed;
import org.clmr.coordinator.journal.CoordinatorState.Paused;
import org.clmr.coordinator.journal.CoordinatorState.Running;
import org.clmr.coordinator.journal.FailureReason;
import org.clmr.coordinator.journal.RunData;
import org.clmr.coordinator.journal.WorkerInfo;
import org.clmr.coordinator.plan.RunPlanner;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.cluster.CoordinatorProtocol.DrainWorker;
import org.clmr.protocol.cluster.CoordinatorProtocol.OperatorReply;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumePoint;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * The draining desk: a worker leaves without the run losing a step. A member of a running run leaves at the next
 * plan boundary, where every member holds the same completed step, and the others go on from that step; a joiner,
 * or a member of a run that is not running, leaves at once. The last member first saves the step it holds: at the
 * next plan boundary (at once in a paused run) rank 0, itself, is asked for a checkpoint of that step, and once
 * it is committed the member leaves at its next repeated request; the run then waits for workers at that step.
 *
 * <p>In memory only, owned by the coordinator's shell: the members to drain at the next boundary, and the step the
 * last member's checkpoint must reach. A draining worker repeats its request until it is stopped, so a new
 * coordinator incarnation hears it again. Runs on the coordinator actor's thread.
 */
public final class Draining {
    private final RunPlanner planner;
    private final BiFunction<RunData, Long, Decision> checkpoints;
    private final Set<String> draining = new LinkedHashSet<>();
    /** The step the leaving last member's checkpoint must save, once asked for (-1: none asked). */
    private long lastMemberSavesStep = -1;

    /** A desk whose next generations take shares from {@code planner}, and that asks for no checkpoints. */
    public Draining(RunPlanner planner) {
        this(planner, (run, step) -> Decision.none());
    }

    /**
     * A desk whose next generations take shares from {@code planner}.
     *
     * @param checkpoints asks rank 0 for a checkpoint of a step (the checkpoint desk's request), for the last member
     */
    public Draining(RunPlanner planner, BiFunction<RunData, Long, Decision> checkpoints) {
        this.planner = planner;
        this.checkpoints = checkpoints;
    }

    /** An operator asks to drain a worker whose held step is not known here (see the full form). */
    public Decision request(CoordinatorState state, DrainWorker c, long boundary, Instant now) {
        return request(state, c, boundary, -1, now);
    }

    /**
     * An operator (or the worker itself, on SIGTERM) asks to drain a worker.
     *
     * @param boundary the step where the members' current plan ends
     * @param held     the step the worker reported last in this generation (-1: none)
     */
    public Decision request(CoordinatorState state, DrainWorker c, long boundary, long held, Instant now) {
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
        boolean last = member && run.members().stream().allMatch(w -> w.workerId().equals(c.workerId())
                || draining.contains(w.workerId()));
        CheckpointRecord saved = run.lastCheckpoint();
        boolean unsaved = held > (saved == null ? 0 : saved.step());
        if (last && (state instanceof Running || (state instanceof Paused && unsaved))) {
            return lastMember(state, c, run, boundary, held, now);
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
        draining.add(c.workerId());
        return Decision.none().classified("drain", Classification.ACCEPTED)
                .info("draining " + c.workerId() + ": it leaves at the plan boundary of step " + boundary)
                .reply(c.replyTo(), new OperatorReply(true, "worker " + c.workerId()
                        + " leaves at the next plan boundary (step " + boundary + ")"));
    }

    /**
     * The last member asks to leave: its checkpoint is asked for at the next boundary (in a paused run, now: it
     * waits at one); once a checkpoint of the step it held is committed, it leaves and joiners, if any, go on from
     * that checkpoint.
     */
    private Decision lastMember(CoordinatorState state, DrainWorker c, RunData run, long boundary, long held,
                                Instant now) {
        boolean first = draining.add(c.workerId());
        CheckpointRecord saved = run.lastCheckpoint();
        if (lastMemberSavesStep >= 0 && saved != null && saved.step() >= lastMemberSavesStep) {
            lastMemberSavesStep = -1;
            Decision d = Decision.persist(new WorkerRemoved(c.workerId(), FailureReason.DRAINED, now))
                    .classified("drain", Classification.ACCEPTED);
            if (!run.pending().isEmpty()) {
                d = d.and(planner.generation(run.withMembers(List.of()), run.pending(), "the last member "
                        + c.workerId() + " left after its checkpoint of step " + saved.step(), now));
            }
            return d.reply(c.replyTo(), new OperatorReply(true, "worker " + c.workerId() + " drained after its"
                    + " checkpoint of step " + saved.step() + "; run " + run.runId() + " waits for workers there"));
        }
        Decision d = Decision.none().classified("drain", first ? Classification.ACCEPTED : Classification.DUPLICATE);
        if (first) {
            d = d.info("draining the last member " + c.workerId() + ": it saves the step it holds, then leaves");
        }
        // in a paused run it holds its step now; in a running one from the boundary on (then a failed round is
        // asked again at its next repeated request)
        long target = state instanceof Paused ? held : lastMemberSavesStep;
        if (target >= 0) {
            lastMemberSavesStep = target;
            d = d.and(checkpoints.apply(run, target));
        }
        return d.reply(c.replyTo(), new OperatorReply(true, "worker " + c.workerId() + " is the last member of run "
                + run.runId() + ": it writes a checkpoint of the step it holds (" + (state instanceof Paused
                ? "step " + held + ", now" : "at the plan boundary of step " + boundary) + "), then leaves; the run"
                + " then waits for workers at that step"));
    }

    /** Whether every member of {@code run} is draining (the last one saves its step before it leaves). */
    public boolean nobodyStays(RunData run) {
        return run.members().stream().allMatch(w -> draining.contains(w.workerId()));
    }

    /**
     * The members, all draining, hold {@code step} at a plan boundary: the last member's checkpoint of it is asked
     * for ({@code checkpoint} is the checkpoint desk's request); it leaves once the checkpoint is committed.
     */
    public Decision lastMemberAt(RunData run, long step, Decision checkpoint) {
        lastMemberSavesStep = step;
        return checkpoint.info("the last member holds step " + step + " at a plan boundary: its checkpoint is asked"
                + " for before it leaves");
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
        lastMemberSavesStep = -1;
    }
}

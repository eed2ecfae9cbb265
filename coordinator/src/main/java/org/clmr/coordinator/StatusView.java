package org.clmr.coordinator;

import org.clmr.coordinator.journal.CoordinatorState;
import org.clmr.coordinator.journal.RunData;
import org.clmr.coordinator.journal.RunPhase;
import org.clmr.coordinator.journal.WorkerInfo;
import org.clmr.coordinator.plan.ProgressTracker;
import org.clmr.coordinator.plan.RunPlanner;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.cluster.CoordinatorProtocol.MemberStatus;
import org.clmr.protocol.cluster.CoordinatorProtocol.Status;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The coordinator's answer to GetStatus, built from its state and the in-memory progress reports. */
final class StatusView {
    private StatusView() {
    }

    /** The last status ({@code last}, null if none) of a run paused in memory (its journal fails), with why. */
    static Status pausedBy(Status last, String why) {
        Status s = last != null ? last
                : new Status(RunPhase.IDLE.name(), "", 0, List.of(), List.of(), 0, 0, 0, 0, null, -1, why);
        return new Status(RunPhase.PAUSED.name(), s.runId(), s.generation(), s.members(), s.pendingWorkers(), s.epoch(),
                s.step(), s.committedStep(), s.totalSteps(), s.lastCheckpoint(), s.checkpointAgeSeconds(), why);
    }

    /** The run as {@code clmr status} shows it: members with their newest reports, progress, last checkpoint. */
    static Status of(CoordinatorState state, ProgressTracker progress, Clock clock) {
        Optional<RunData> maybeRun = state.run();
        if (maybeRun.isEmpty()) {
            return new Status(state.phase().name(), "", 0, List.of(), List.of(), 0, 0, 0, 0, null, -1, state.reason());
        }
        RunData run = maybeRun.get();
        List<MemberStatus> members = new ArrayList<>();
        long step = run.committedStep();
        for (int i = 0; i < run.members().size(); i++) {
            WorkerInfo w = run.members().get(i);
            Optional<ProgressTracker.Reported> r = progress.get(w.workerId());
            long s = progress.stepIn(w.workerId(), run.generation());
            step = Math.max(step, s);
            members.add(new MemberStatus(i, w.workerId(), w.host(), w.device(), w.share(),
                    r.map(ProgressTracker.Reported::samplesPerSecondEma).orElse(w.samplesPerSecond()), s,
                    r.filter(x -> x.generation() == run.generation()).map(ProgressTracker.Reported::loss)
                            .orElse(Double.NaN)));
        }
        CheckpointRecord ck = run.lastCheckpoint();
        double age = ck == null ? -1 : (clock.millis() - ck.createdAt().toEpochMilli()) / 1000.0;
        return new Status(state.phase().name(), run.runId(), run.generation(), members,
                run.pending().stream().map(WorkerInfo::workerId).toList(), RunPlanner.epochOf(run, step), step,
                run.committedStep(), run.totalSteps(), ck, age, state.reason());
    }
}

package org.clmr.coordinator.journal;

import org.clmr.coordinator.journal.CoordinatorEvent.CheckpointRecorded;
import org.clmr.coordinator.journal.CoordinatorEvent.EpochCompleted;
import org.clmr.coordinator.journal.CoordinatorEvent.GenerationStarted;
import org.clmr.coordinator.journal.CoordinatorEvent.RunStarted;
import org.clmr.coordinator.journal.CoordinatorEvent.WorkerJoined;
import org.clmr.coordinator.journal.CoordinatorEvent.WorkerRemoved;
import org.clmr.protocol.CborSerializable;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumePoint;
import org.clmr.protocol.run.RunSpec;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Everything known of a started run, as the phases of {@link CoordinatorState} hold it (and snapshots store it:
 * the field names are part of the stored format). Changed only through the withers, by the event handler.
 *
 * @param members          current generation's members, in rank order
 * @param pending          registered workers that join at the next generation
 * @param resume           the current generation's resume point
 * @param lastCheckpoint   the newest committed checkpoint, or null
 * @param lastCheckpointId its id (0: none)
 * @param committedStep    newest durable step: generation start, epoch end or committed checkpoint
 * @param committedEpoch   epochs completed
 */
public record RunData(String runId, RunSpec spec, String datasetHash, long tracks, long stepsPerEpoch,
                      Instant startedAt, long generation, List<WorkerInfo> members, List<WorkerInfo> pending,
                      ResumePoint resume, CheckpointRecord lastCheckpoint, long lastCheckpointId, long committedStep,
                      int committedEpoch) implements CborSerializable {

    public RunData {
        members = List.copyOf(members);
        pending = List.copyOf(pending);
    }

    /**
     * The run as an operator started it: no generation, no members, and nothing durable yet but the checkpoint
     * it resumes from, if any.
     */
    public static RunData start(RunStarted e) {
        CheckpointRecord from = e.resumeFrom();
        long step = from == null ? 0 : from.step();
        return new RunData(e.runId(), e.spec(), e.datasetHash(), e.tracks(), e.stepsPerEpoch(), e.at(), 0,
                List.of(), List.of(), from == null ? ResumePoint.fresh() : ResumePoint.fromCheckpoint(from), from, 0,
                step, (int) (step / e.stepsPerEpoch()));
    }

    /** Steps of the whole run. */
    public long totalSteps() {
        return stepsPerEpoch * spec.epochs();
    }

    /** The member with this id, if any. */
    public Optional<WorkerInfo> member(String workerId) {
        return members.stream().filter(w -> w.workerId().equals(workerId)).findFirst();
    }

    /** The joiner with this id, if any. */
    public Optional<WorkerInfo> joiner(String workerId) {
        return pending.stream().filter(w -> w.workerId().equals(workerId)).findFirst();
    }

    /** The member or, failing that, the joiner with this id. */
    public Optional<WorkerInfo> memberOrJoiner(String workerId) {
        return member(workerId).or(() -> joiner(workerId));
    }

    /** Rank of a member, or -1. */
    public int rankOf(String workerId) {
        for (int i = 0; i < members.size(); i++) {
            if (members.get(i).workerId().equals(workerId)) {
                return i;
            }
        }
        return -1;
    }

    /** The same run in another generation. */
    public RunData withGeneration(long newGeneration) {
        return new RunData(runId, spec, datasetHash, tracks, stepsPerEpoch, startedAt, newGeneration, members, pending,
                resume, lastCheckpoint, lastCheckpointId, committedStep, committedEpoch);
    }

    /** The same run with these members (rank order). */
    public RunData withMembers(List<WorkerInfo> newMembers) {
        return new RunData(runId, spec, datasetHash, tracks, stepsPerEpoch, startedAt, generation, newMembers, pending,
                resume, lastCheckpoint, lastCheckpointId, committedStep, committedEpoch);
    }

    /** The same run with these joiners. */
    public RunData withPending(List<WorkerInfo> newPending) {
        return new RunData(runId, spec, datasetHash, tracks, stepsPerEpoch, startedAt, generation, members, newPending,
                resume, lastCheckpoint, lastCheckpointId, committedStep, committedEpoch);
    }

    /** The same run resuming from another point. */
    public RunData withResume(ResumePoint newResume) {
        return new RunData(runId, spec, datasetHash, tracks, stepsPerEpoch, startedAt, generation, members, pending,
                newResume, lastCheckpoint, lastCheckpointId, committedStep, committedEpoch);
    }

    /** The same run with another newest committed checkpoint. */
    public RunData withCheckpoint(long checkpointId, CheckpointRecord record) {
        return new RunData(runId, spec, datasetHash, tracks, stepsPerEpoch, startedAt, generation, members, pending,
                resume, record, checkpointId, committedStep, committedEpoch);
    }

    /** The same run with other durable progress. */
    public RunData withCommitted(long step, int epochs) {
        return new RunData(runId, spec, datasetHash, tracks, stepsPerEpoch, startedAt, generation, members, pending,
                resume, lastCheckpoint, lastCheckpointId, step, epochs);
    }

    /** The run in a new generation: its members leave the joiners, and its start is durable. */
    RunData startGeneration(GenerationStarted e) {
        List<WorkerInfo> stillPending = new ArrayList<>(pending);
        stillPending.removeIf(p -> e.members().stream().anyMatch(m -> m.workerId().equals(p.workerId())));
        return withGeneration(e.generation()).withMembers(e.members()).withPending(stillPending)
                .withResume(e.resume()).withCommitted(Math.max(committedStep, e.resume().step()), committedEpoch);
    }

    /** The run after an event that keeps its phase. Pure. */
    RunData apply(CoordinatorEvent event) {
        if (event instanceof WorkerJoined e) {
            return withPending(with(without(pending, e.worker().workerId()), e.worker()));
        }
        if (event instanceof WorkerRemoved e) {
            return withMembers(without(members, e.workerId())).withPending(without(pending, e.workerId()));
        }
        if (event instanceof CheckpointRecorded e) {
            return withCheckpoint(e.checkpointId(), e.record())
                    .withCommitted(Math.max(committedStep, e.record().step()), committedEpoch);
        }
        if (event instanceof EpochCompleted e) {
            return withCommitted(Math.max(committedStep, e.step()), Math.max(committedEpoch, e.epoch() + 1));
        }
        throw new IllegalStateException("event " + event.getClass().getSimpleName() + " does not change run data");
    }

    private static List<WorkerInfo> without(List<WorkerInfo> workers, String workerId) {
        List<WorkerInfo> rest = new ArrayList<>(workers);
        rest.removeIf(w -> w.workerId().equals(workerId));
        return rest;
    }

    private static List<WorkerInfo> with(List<WorkerInfo> workers, WorkerInfo worker) {
        List<WorkerInfo> more = new ArrayList<>(workers);
        more.add(worker);
        return more;
    }
}

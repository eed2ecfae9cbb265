package org.clmr.coordinator;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import org.clmr.coordinator.CoordinatorEvent.CheckpointCommitted;
import org.clmr.coordinator.CoordinatorEvent.EpochCompleted;
import org.clmr.coordinator.CoordinatorEvent.GenerationStarted;
import org.clmr.coordinator.CoordinatorEvent.RunCompleted;
import org.clmr.coordinator.CoordinatorEvent.RunPaused;
import org.clmr.coordinator.CoordinatorEvent.RunResumed;
import org.clmr.coordinator.CoordinatorEvent.RunStarted;
import org.clmr.coordinator.CoordinatorEvent.WorkerJoined;
import org.clmr.coordinator.CoordinatorEvent.WorkerRemoved;
import org.clmr.protocol.CborSerializable;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumePoint;
import org.clmr.protocol.cluster.CoordinatorProtocol.StopReason;
import org.clmr.protocol.run.RunSpec;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The coordinator's state, one type per phase. {@link #apply} is the event handler: pure, so that it
 * re-runs identically on replay; it is also what snapshots hold.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "phase")
@JsonSubTypes({
        @JsonSubTypes.Type(value = CoordinatorState.Idle.class, name = "idle"),
        @JsonSubTypes.Type(value = CoordinatorState.WaitingForWorkers.class, name = "waiting-for-workers"),
        @JsonSubTypes.Type(value = CoordinatorState.Running.class, name = "running"),
        @JsonSubTypes.Type(value = CoordinatorState.Paused.class, name = "paused"),
        @JsonSubTypes.Type(value = CoordinatorState.Completed.class, name = "completed"),
})
public sealed interface CoordinatorState extends CborSerializable {

    /** This state's phase. */
    RunPhase phase();

    /** Why the run is in this phase (one line). */
    String reason();

    /** The run, if one was started. */
    Optional<RunData> run();

    /** The state after an event. Pure. */
    CoordinatorState apply(CoordinatorEvent event);

    /** The membership generation (0 before the first). */
    default long generation() {
        return run().map(RunData::generation).orElse(0L);
    }

    /** No run. */
    record Idle(String reason) implements CoordinatorState {
        @JsonCreator
        public Idle(@JsonProperty("reason") String reason) {
            this.reason = reason;
        }

        public RunPhase phase() {
            return RunPhase.IDLE;
        }

        public Optional<RunData> run() {
            return Optional.empty();
        }

        public CoordinatorState apply(CoordinatorEvent event) {
            if (event instanceof RunStarted e) {
                return new WaitingForWorkers(RunData.start(e), "run " + e.runId() + " started; waiting for workers");
            }
            throw unexpected(this, event);
        }
    }

    /** A run with no members yet (or none left). */
    record WaitingForWorkers(RunData data, String reason) implements CoordinatorState {
        public RunPhase phase() {
            return RunPhase.WAITING_FOR_WORKERS;
        }

        public Optional<RunData> run() {
            return Optional.of(data);
        }

        public CoordinatorState apply(CoordinatorEvent event) {
            if (event instanceof GenerationStarted e) {
                return new Running(data.withGeneration(e), "generation " + e.generation() + ": " + e.reason());
            }
            if (event instanceof RunPaused e) {
                return new Paused(data, e.reason());
            }
            return common(this, data, event).orElseGet(() -> new WaitingForWorkers(data.apply(event), reason));
        }
    }

    /** Members are training. */
    record Running(RunData data, String reason) implements CoordinatorState {
        public RunPhase phase() {
            return RunPhase.RUNNING;
        }

        public Optional<RunData> run() {
            return Optional.of(data);
        }

        public CoordinatorState apply(CoordinatorEvent event) {
            if (event instanceof GenerationStarted e) {
                return new Running(data.withGeneration(e), "generation " + e.generation() + ": " + e.reason());
            }
            if (event instanceof RunPaused e) {
                return new Paused(data, e.reason());
            }
            if (event instanceof WorkerRemoved e) {
                RunData next = data.apply(e);
                if (next.members().isEmpty()) {
                    return new WaitingForWorkers(next, "every member is gone (last: " + e.workerId() + ", "
                            + e.reason() + "); waiting for workers");
                }
                return new Running(next, reason);
            }
            return common(this, data, event).orElseGet(() -> new Running(data.apply(event), reason));
        }
    }

    /** Paused: members wait at a plan boundary. */
    record Paused(RunData data, String reason) implements CoordinatorState {
        public RunPhase phase() {
            return RunPhase.PAUSED;
        }

        public Optional<RunData> run() {
            return Optional.of(data);
        }

        public CoordinatorState apply(CoordinatorEvent event) {
            if (event instanceof RunResumed) {
                if (data.members().isEmpty()) {
                    return new WaitingForWorkers(data, "resumed; waiting for workers");
                }
                return new Running(data, "resumed");
            }
            return common(this, data, event).orElseGet(() -> new Paused(data.apply(event), reason));
        }
    }

    /** The run is over. */
    record Completed(RunData data, StopReason stopReason, String reason) implements CoordinatorState {
        public RunPhase phase() {
            return RunPhase.COMPLETED;
        }

        public Optional<RunData> run() {
            return Optional.of(data);
        }

        public CoordinatorState apply(CoordinatorEvent event) {
            if (event instanceof RunStarted e) {
                return new WaitingForWorkers(RunData.start(e), "run " + e.runId() + " started; waiting for workers");
            }
            if (event instanceof WorkerRemoved e) {
                return new Completed(data.apply(e), stopReason, reason);
            }
            throw unexpected(this, event);
        }
    }

    /** Completion, shared by the active phases. */
    private static Optional<CoordinatorState> common(CoordinatorState state, RunData data, CoordinatorEvent event) {
        if (event instanceof RunCompleted e) {
            String why = e.reason() == StopReason.FINISHED
                    ? "finished " + data.spec().epochs() + " epochs (" + data.totalSteps() + " steps)"
                    : "stopped by an operator";
            return Optional.of(new Completed(data, e.reason(), why));
        }
        if (event instanceof RunStarted) {
            throw unexpected(state, event);
        }
        return Optional.empty();
    }

    private static IllegalStateException unexpected(CoordinatorState state, CoordinatorEvent event) {
        return new IllegalStateException("event " + event.getClass().getSimpleName() + " cannot apply in phase "
                + state.phase() + " (the journal is inconsistent with this build)");
    }

    /**
     * Everything known of a started run.
     *
     * @param members             current generation's members, in rank order
     * @param pending             registered workers that join at the next generation
     * @param resume              the current generation's resume point
     * @param lastCheckpoint      the newest committed checkpoint, or null
     * @param lastCheckpointId    its id (0: none)
     * @param committedStep       newest durable step: generation start, epoch end or committed checkpoint
     * @param committedEpoch      epochs completed
     */
    record RunData(String runId, RunSpec spec, String datasetHash, long tracks, long stepsPerEpoch, Instant startedAt,
                   long generation, List<WorkerInfo> members, List<WorkerInfo> pending, ResumePoint resume,
                   CheckpointRecord lastCheckpoint, long lastCheckpointId, long committedStep, int committedEpoch)
            implements CborSerializable {

        public RunData {
            members = List.copyOf(members);
            pending = List.copyOf(pending);
        }

        static RunData start(RunStarted e) {
            return new RunData(e.runId(), e.spec(), e.datasetHash(), e.tracks(), e.stepsPerEpoch(), e.at(), 0,
                    List.of(), List.of(), ResumePoint.fresh(), null, 0, 0, 0);
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

        /** Rank of a member, or -1. */
        public int rankOf(String workerId) {
            for (int i = 0; i < members.size(); i++) {
                if (members.get(i).workerId().equals(workerId)) {
                    return i;
                }
            }
            return -1;
        }

        RunData withGeneration(GenerationStarted e) {
            List<WorkerInfo> stillPending = new ArrayList<>();
            for (WorkerInfo p : pending) {
                if (e.members().stream().noneMatch(m -> m.workerId().equals(p.workerId()))) {
                    stillPending.add(p);
                }
            }
            return new RunData(runId, spec, datasetHash, tracks, stepsPerEpoch, startedAt, e.generation(), e.members(),
                    stillPending, e.resume(), lastCheckpoint, lastCheckpointId,
                    Math.max(committedStep, e.resume().step()), committedEpoch);
        }

        RunData apply(CoordinatorEvent event) {
            if (event instanceof WorkerJoined e) {
                List<WorkerInfo> p = new ArrayList<>(pending);
                p.removeIf(w -> w.workerId().equals(e.worker().workerId()));
                p.add(e.worker());
                return new RunData(runId, spec, datasetHash, tracks, stepsPerEpoch, startedAt, generation, members, p,
                        resume, lastCheckpoint, lastCheckpointId, committedStep, committedEpoch);
            }
            if (event instanceof WorkerRemoved e) {
                List<WorkerInfo> m = new ArrayList<>(members);
                m.removeIf(w -> w.workerId().equals(e.workerId()));
                List<WorkerInfo> p = new ArrayList<>(pending);
                p.removeIf(w -> w.workerId().equals(e.workerId()));
                return new RunData(runId, spec, datasetHash, tracks, stepsPerEpoch, startedAt, generation, m, p,
                        resume, lastCheckpoint, lastCheckpointId, committedStep, committedEpoch);
            }
            if (event instanceof CheckpointCommitted e) {
                return new RunData(runId, spec, datasetHash, tracks, stepsPerEpoch, startedAt, generation, members,
                        pending, resume, e.record(), e.checkpointId(), Math.max(committedStep, e.record().step()),
                        committedEpoch);
            }
            if (event instanceof EpochCompleted e) {
                return new RunData(runId, spec, datasetHash, tracks, stepsPerEpoch, startedAt, generation, members,
                        pending, resume, lastCheckpoint, lastCheckpointId, Math.max(committedStep, e.step()),
                        Math.max(committedEpoch, e.epoch() + 1));
            }
            throw new IllegalStateException("event " + event.getClass().getSimpleName() + " does not change run data");
        }
    }
}

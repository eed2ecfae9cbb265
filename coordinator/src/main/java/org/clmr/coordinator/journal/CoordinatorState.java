package org.clmr.coordinator.journal;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import org.clmr.coordinator.journal.CoordinatorEvent.GenerationStarted;
import org.clmr.coordinator.journal.CoordinatorEvent.RunCompleted;
import org.clmr.coordinator.journal.CoordinatorEvent.RunPaused;
import org.clmr.coordinator.journal.CoordinatorEvent.RunResumed;
import org.clmr.coordinator.journal.CoordinatorEvent.RunStarted;
import org.clmr.coordinator.journal.CoordinatorEvent.WorkerRemoved;
import org.clmr.protocol.CborSerializable;
import org.clmr.protocol.cluster.CoordinatorProtocol.StopReason;

import java.util.Optional;

/**
 * The coordinator's state, one type per phase. {@link #apply} is the event handler: pure, so that it
 * re-runs identically on replay; it is also what snapshots hold (under the class names of the phases and the
 * {@code phase} names below, both part of the stored format; see {@link EarlierTypeNames}).
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
                return new Running(data.startGeneration(e), "generation " + e.generation() + ": " + e.reason());
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
                return new Running(data.startGeneration(e), "generation " + e.generation() + ": " + e.reason());
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
}

package org.clmr.coordinator.journal;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import org.clmr.protocol.CborSerializable;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumePoint;
import org.clmr.protocol.cluster.CoordinatorProtocol.StopReason;
import org.clmr.protocol.run.RunSpec;

import java.time.Instant;
import java.util.List;

/**
 * What the coordinator's journal records. Few: run lifecycle, membership and durable progress, never one
 * per step. Every time is read from the clock in the command handler and carried here.
 *
 * <p>The journal holds each event under its class name (Akka's Jackson manifest) and the {@code type} name
 * below: both are part of the stored format. Events written before they moved to this package, or under an
 * earlier class name, are read through {@link EarlierTypeNames}.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
        @JsonSubTypes.Type(value = CoordinatorEvent.RunStarted.class, name = "run-started"),
        @JsonSubTypes.Type(value = CoordinatorEvent.WorkerJoined.class, name = "worker-joined"),
        @JsonSubTypes.Type(value = CoordinatorEvent.WorkerRemoved.class, name = "worker-removed"),
        @JsonSubTypes.Type(value = CoordinatorEvent.GenerationStarted.class, name = "generation-started"),
        @JsonSubTypes.Type(value = CoordinatorEvent.CheckpointRecorded.class, name = "checkpoint-committed"),
        @JsonSubTypes.Type(value = CoordinatorEvent.EpochCompleted.class, name = "epoch-completed"),
        @JsonSubTypes.Type(value = CoordinatorEvent.RunPaused.class, name = "run-paused"),
        @JsonSubTypes.Type(value = CoordinatorEvent.RunResumed.class, name = "run-resumed"),
        @JsonSubTypes.Type(value = CoordinatorEvent.RunCompleted.class, name = "run-completed"),
})
public sealed interface CoordinatorEvent extends CborSerializable {

    /**
     * An operator started a run.
     *
     * @param resumeFrom the checkpoint an existing run of this id goes on from (started with
     *                   {@code IfRunExists.RESUME}), or null for a run from step 0 (absent in earlier journals)
     */
    record RunStarted(String runId, RunSpec spec, String datasetHash, long tracks, long stepsPerEpoch, Instant at,
                      CheckpointRecord resumeFrom) implements CoordinatorEvent {

        @JsonCreator
        public RunStarted(@JsonProperty("runId") String runId, @JsonProperty("spec") RunSpec spec,
                          @JsonProperty("datasetHash") String datasetHash, @JsonProperty("tracks") long tracks,
                          @JsonProperty("stepsPerEpoch") long stepsPerEpoch, @JsonProperty("at") Instant at,
                          @JsonProperty("resumeFrom") CheckpointRecord resumeFrom) {
            this.runId = runId;
            this.spec = spec;
            this.datasetHash = datasetHash;
            this.tracks = tracks;
            this.stepsPerEpoch = stepsPerEpoch;
            this.at = at;
            this.resumeFrom = resumeFrom;
        }

        /** A run from step 0. */
        public RunStarted(String runId, RunSpec spec, String datasetHash, long tracks, long stepsPerEpoch, Instant at) {
            this(runId, spec, datasetHash, tracks, stepsPerEpoch, at, null);
        }
    }

    /** A worker registered; it becomes a member at the next generation. */
    record WorkerJoined(WorkerInfo worker, Instant at) implements CoordinatorEvent {
    }

    /** A member or joiner is gone. */
    record WorkerRemoved(String workerId, FailureReason reason, Instant at) implements CoordinatorEvent {
    }

    /**
     * A new membership generation.
     *
     * @param members in rank order, with shares and the throughput they came from
     * @param resume  where it starts
     * @param reason  why (joins, losses, re-balance, resume)
     */
    record GenerationStarted(long generation, List<WorkerInfo> members, ResumePoint resume, String reason, Instant at)
            implements CoordinatorEvent {
        public GenerationStarted {
            members = List.copyOf(members);
        }
    }

    /**
     * A checkpoint was written, verified by the coordinator, and is now a resume point: the commit of a
     * checkpoint round, which members then hear of as the protocol's {@code CheckpointCommitted}. Stored as
     * {@code checkpoint-committed} (its name before it was renamed to differ from that message).
     */
    record CheckpointRecorded(long checkpointId, CheckpointRecord record, Instant at) implements CoordinatorEvent {
    }

    /** Every step of an epoch was completed. */
    record EpochCompleted(int epoch, long step, Instant at) implements CoordinatorEvent {
    }

    /** The run was paused. */
    record RunPaused(String reason, Instant at) implements CoordinatorEvent {
    }

    /** The run was resumed. */
    record RunResumed(Instant at) implements CoordinatorEvent {
        @JsonCreator
        public RunResumed(@JsonProperty("at") Instant at) {
            this.at = at;
        }
    }

    /** The run finished or was stopped. */
    record RunCompleted(StopReason reason, Instant at) implements CoordinatorEvent {
    }
}

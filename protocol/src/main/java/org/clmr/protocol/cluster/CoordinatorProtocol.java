package org.clmr.protocol.cluster;

import akka.actor.typed.ActorRef;
import akka.actor.typed.receptionist.ServiceKey;
import com.fasterxml.jackson.annotation.JsonCreator;
import org.clmr.protocol.CborSerializable;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.run.RunSpec;
import org.clmr.protocol.wire.FrameKey;

import java.util.List;

/**
 * Every message between workers, operators and the coordinator, in one place. All are immutable records
 * bound to jackson-cbor. Anything that can arrive late or twice carries the membership generation and
 * the step (and a checkpoint id where it applies); the coordinator classifies each as accepted,
 * duplicate, stale or unknown.
 *
 * <p>Every record's canonical constructor is Jackson's creator (annotated where a record has another constructor or
 * one field): the JSON properties are the components' names, read with the parameter-names module.
 *
 * <p>Steps are counted as steps completed: a worker "at step s" holds the weights after s global steps;
 * epoch {@code e} covers steps {@code [e * stepsPerEpoch, (e + 1) * stepsPerEpoch)}.
 */
public final class CoordinatorProtocol {
    private CoordinatorProtocol() {
    }

    /** The cluster role of coordinator nodes; the singleton runs on the oldest of them. */
    public static final String COORDINATOR_ROLE = "coordinator";

    /** The Cluster Singleton's name: a node reaches it with a proxy of this name and role. */
    public static final String SINGLETON_NAME = "clmr-coordinator";

    /** The coordinator also registers with the receptionist under this key (workers may subscribe). */
    public static final ServiceKey<ToCoordinator> SERVICE_KEY = ServiceKey.create(ToCoordinator.class, "clmr-coordinator");

    /** What the coordinator accepts. */
    public interface ToCoordinator extends CborSerializable {
    }

    /** What the coordinator sends to a worker. */
    public interface ToWorker extends CborSerializable {
    }

    // ---------------------------------------------------------------- registration

    /**
     * A worker asks to take part in the run.
     *
     * @param protocolVersion {@link org.clmr.protocol.BuildInfo#protocolVersion()} of the worker's build
     * @param workerId        stable name of the worker (host and device), unique in the cluster
     * @param host            host name
     * @param device          device description: GPU model and memory, or CPU
     * @param aeronEndpoint   where its collectives listen (host:port or an IPC channel)
     * @param datasetHash     content hash of the packed dataset it reads
     * @param samplesPerSecond measured or estimated throughput, for its first share
     * @param replyTo         where the coordinator sends {@link ToWorker} messages
     * @param held            the training state the worker holds in memory (it outlived a coordinator or an
     *                        earlier membership), or null when it holds none
     */
    public record Register(int protocolVersion, String workerId, String host, String device, String aeronEndpoint,
                           String datasetHash, double samplesPerSecond, ActorRef<ToWorker> replyTo, HeldState held)
            implements ToCoordinator {

        @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
        public Register {
        }

        /** A registration of a worker that holds no training state. */
        public Register(int protocolVersion, String workerId, String host, String device, String aeronEndpoint,
                        String datasetHash, double samplesPerSecond, ActorRef<ToWorker> replyTo) {
            this(protocolVersion, workerId, host, device, aeronEndpoint, datasetHash, samplesPerSecond, replyTo, null);
        }
    }

    /**
     * Training state a worker holds in memory: the weights, optimizer state and statistics after
     * {@code step} steps of run {@code runId}, identified by their fingerprint. Every worker that completed
     * a step of a run holds the same state (a step's result depends only on the run and the weights), so
     * any holder of the newest step can broadcast it to a new generation.
     *
     * @param runId              the run
     * @param specHash           {@link RunSpec#hash()} of the run's spec
     * @param step               steps completed
     * @param weightsFingerprint checksum of the weights (as in {@link Progress})
     */
    public record HeldState(String runId, String specHash, long step, String weightsFingerprint)
            implements CborSerializable {
    }

    /** Why a registration is refused. */
    public enum RefusalReason {
        /** The worker speaks another protocol version: deploy the same clmr build everywhere. */
        PROTOCOL_VERSION,
        /** The worker's dataset differs from the run's: point it at the same packed dataset. */
        DATASET_MISMATCH,
        /** No run has been started: a worker keeps registering until one starts. */
        NO_RUN,
        /** The run is over: a worker keeps registering until the next run starts. */
        RUN_COMPLETED,
        /**
         * The worker id is registered from another cluster node that is still a member: an id belongs to the node
         * that registered it until that node leaves the cluster. A worker whose own earlier node is on its way out
         * keeps registering; the registered worker is left as it is.
         */
        WORKER_ID_TAKEN
    }

    /**
     * The registration was refused; the worker should stop and print {@code message}.
     *
     * @param message one line: what differs, expected vs actual, and how to fix it
     */
    public record RegisterRefused(String workerId, RefusalReason reason, String message) implements ToWorker {
    }

    /**
     * The registration was accepted; the worker becomes a member at the next step boundary and then
     * receives a {@link Reconfigure}.
     */
    public record Registered(String workerId, String runId, RunSpec spec, long currentGeneration) implements ToWorker {
    }

    // ---------------------------------------------------------------- membership generations

    /**
     * One member of a generation.
     *
     * @param rank          its rank, 0-based; members are listed in rank order
     * @param workerId      its name
     * @param aeronEndpoint where its collectives listen
     * @param share         tracks of the global batch it computes per step (each >= 2, summing to B)
     */
    public record Member(int rank, String workerId, String aeronEndpoint, int share) implements CborSerializable {
    }

    /**
     * Where a generation starts. Exactly one source: a member that broadcasts its state
     * ({@code broadcastRank >= 0}), a committed checkpoint to load ({@code checkpoint != null}), or the
     * run's seed (neither: a fresh run at step 0).
     *
     * <p>A broadcasting member sends its newest complete state, which may be a step or so past
     * {@code step} (a report in flight); members adopt the broadcast step, plans name where they end.
     *
     * @param step          steps completed by the state every member starts from (at least)
     * @param epoch         epoch of {@code step}
     * @param broadcastRank the rank that broadcasts weights and optimizer state, or -1
     * @param checkpoint    the committed checkpoint to load, or null
     */
    public record ResumePoint(long step, int epoch, int broadcastRank, CheckpointRecord checkpoint)
            implements CborSerializable {

        /** A fresh run: every member initialises from the run's seed. */
        public static ResumePoint fresh() {
            return new ResumePoint(0, 0, -1, null);
        }

        /** Resume from a member's state. */
        public static ResumePoint fromRank(long step, int epoch, int rank) {
            return new ResumePoint(step, epoch, rank, null);
        }

        /** Resume from a committed checkpoint. */
        public static ResumePoint fromCheckpoint(CheckpointRecord record) {
            return new ResumePoint(record.step(), record.epoch(), -1, record);
        }

        /** Where the state comes from, for logs and status. */
        public String describe() {
            if (broadcastRank >= 0) {
                return "step " + step + " broadcast by rank " + broadcastRank;
            }
            if (checkpoint != null) {
                return "checkpoint of step " + step + " (" + checkpoint.location() + ")";
            }
            return "fresh start from the run seed";
        }
    }

    /**
     * A new membership generation, sent to every member. In-flight steps of older generations are
     * abandoned; every member adopts the resume point, then waits for a {@link Plan}.
     *
     * @param runId      the run
     * @param spec       the run's spec
     * @param generation strictly increasing
     * @param members    in rank order, with endpoints and shares
     * @param resume     the state to start from
     * @param stepsPerEpoch steps in one epoch of the run's dataset
     * @param frameKey   the generation's fresh key, under which every collective frame carries a MAC; secret, it
     *                   travels only in this message over the mutually authenticated cluster connection, is never
     *                   persisted and never shown ({@code toString} says {@code <redacted>})
     */
    public record Reconfigure(String runId, RunSpec spec, long generation, List<Member> members, ResumePoint resume,
                              long stepsPerEpoch, FrameKey frameKey) implements ToWorker {
        public Reconfigure {
            members = List.copyOf(members);
            if (frameKey == null || !frameKey.authenticates()) {
                throw new IllegalArgumentException("generation " + generation + " needs a frame key (FrameKey.random())");
            }
        }
    }

    /** Run steps {@code [fromStep, toStep)} of this generation autonomously, then wait for the next plan. */
    public record Plan(long generation, long fromStep, long toStep) implements ToWorker {
    }

    /**
     * A worker's progress: sent after each completed step (cheap, never persisted) and repeated while it
     * waits at a plan boundary, so a lost {@link Plan} is re-sent.
     *
     * @param step               steps completed
     * @param loss               the global loss of the last step
     * @param samplesPerSecond   its measured throughput
     * @param weightsFingerprint checksum of its weights (equal on every member after a step)
     * @param times              where the step's time went on this worker; null when it did not compute the step
     *                           (it adopted a broadcast state of that step), and in reports of earlier builds
     */
    public record Progress(String workerId, long generation, long step, int epoch, double loss,
                           double samplesPerSecond, String weightsFingerprint, StepTimes times)
            implements ToCoordinator {

        @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
        public Progress {
        }

        /** A report without step times: the worker holds the step but did not compute it. */
        public Progress(String workerId, long generation, long step, int epoch, double loss, double samplesPerSecond,
                        String weightsFingerprint) {
            this(workerId, generation, step, epoch, loss, samplesPerSecond, weightsFingerprint, null);
        }
    }

    /**
     * A computed step's time on one worker, by phase, in nanoseconds (the coordinator's per-step log averages
     * them over the members).
     *
     * @param dataNs reading and augmenting its share of the batch
     * @param wallNs the whole step, the data included
     */
    public record StepTimes(long dataNs, long forwardNs, long lossNs, long communicationNs, long backwardNs,
                            long optimizerNs, long wallNs) implements CborSerializable {
    }

    // ---------------------------------------------------------------- checkpoints

    /** Rank 0: write a checkpoint of the state at {@code step} through the CheckpointStore. */
    public record CheckpointRequest(long generation, long checkpointId, long step) implements ToWorker {
    }

    /** Rank 0 wrote (and itself verified) the checkpoint; the coordinator verifies it again before committing. */
    public record CheckpointWritten(String workerId, long generation, long checkpointId, CheckpointRecord record)
            implements ToCoordinator {
    }

    /** Rank 0 could not write the checkpoint. */
    public record CheckpointFailed(String workerId, long generation, long checkpointId, long step, String reason)
            implements ToCoordinator {
    }

    /** The checkpoint was verified and committed: it may now be a resume point. */
    public record CheckpointCommitted(long generation, long checkpointId, CheckpointRecord record) implements ToWorker {
    }

    // ---------------------------------------------------------------- checkpoint handoff

    /**
     * Where coordinator nodes take checkpoints from workers and hand them back: each coordinator node registers its
     * receiver under this key with the receptionist. Workers hand a checkpoint over in {@link CheckpointPart}s over
     * the cluster's mutually authenticated channel, and the coordinator writes it into its own store, so that no
     * worker ever opens the coordinator's database.
     */
    public static final ServiceKey<CheckpointHandoff> CHECKPOINT_HANDOFF_KEY =
            ServiceKey.create(CheckpointHandoff.class, "clmr-checkpoint-handoff");

    /** What a coordinator node's checkpoint receiver accepts. */
    public interface CheckpointHandoff extends CborSerializable {
    }

    /** What a checkpoint receiver answers. */
    public interface HandoffReply extends CborSerializable {
    }

    /**
     * One part of a checkpoint payload a worker hands over, in order from 0; every part but the last holds exactly
     * {@link #PART_BYTES} bytes. The receiver answers {@link PartReceived} to each part but the last, and
     * {@link CheckpointStored} (or {@link HandoffRefused}) to the last, once the whole payload matched
     * {@code sizeBytes} and {@code sha256} and its store wrote and verified it. Part 0 starts the transfer anew.
     *
     * @param workerId    the sending worker (one transfer per worker at a time)
     * @param sizeBytes   the whole payload's size
     * @param sha256      the whole payload's SHA-256 (hex)
     * @param index       this part's index
     * @param parts       how many parts the payload has
     * @param bytes       this part's bytes
     */
    public record CheckpointPart(String workerId, String runId, long step, int epoch, long generation,
                                 String runSpecHash, long sizeBytes, String sha256, int index, int parts, byte[] bytes,
                                 ActorRef<HandoffReply> replyTo) implements CheckpointHandoff {
        /**
         * Bytes per part: well under Artery's largest frame (256 KiB by default), so that a part travels on the
         * ordinary channel without holding back heartbeats for long.
         */
        public static final int PART_BYTES = 128 * 1024;

        /** How many parts a payload of {@code sizeBytes} takes (at least one, even when empty). */
        public static int partsOf(long sizeBytes) {
            return (int) Math.max(1, (sizeBytes + PART_BYTES - 1) / PART_BYTES);
        }
    }

    /** A part of the current transfer arrived and was appended; send the next one. */
    public record PartReceived(int index) implements HandoffReply {
        @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
        public PartReceived {
        }
    }

    /** The whole checkpoint arrived, matched its size and SHA-256, and the coordinator's store wrote and verified it. */
    public record CheckpointStored(CheckpointRecord record) implements HandoffReply {
        @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
        public CheckpointStored {
        }
    }

    /**
     * A part or a fetch was refused; the transfer (if any) is dropped.
     *
     * @param message one line: what was wrong, never any stored bytes
     */
    public record HandoffRefused(String message) implements HandoffReply {
        @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
        public HandoffRefused {
        }
    }

    /** A worker asks for part {@code index} of a stored checkpoint's payload (to resume a generation from it). */
    public record FetchCheckpoint(CheckpointRecord record, int index, ActorRef<HandoffReply> replyTo)
            implements CheckpointHandoff {
    }

    /**
     * Part {@code index} of a stored checkpoint's payload, of {@link CheckpointPart#partsOf}(record size) parts; the
     * worker checks the whole against the record's size and SHA-256.
     */
    public record CheckpointBytes(int index, int parts, byte[] bytes) implements HandoffReply {
    }

    // ---------------------------------------------------------------- leaving and failures

    /** A worker leaves the run on purpose (shutdown). */
    public record Leave(String workerId, long generation, String reason) implements ToCoordinator {
    }

    /**
     * A collective of this generation timed out at this step: the named ranks were silent.
     *
     * @param reporterId  the worker that timed out
     * @param silentRanks ranks (of {@code generation}) that sent nothing in time
     */
    public record PeerTimeout(String reporterId, long generation, long step, List<Integer> silentRanks)
            implements ToCoordinator {
        public PeerTimeout {
            silentRanks = List.copyOf(silentRanks);
        }
    }

    /** Why the run, or a worker's part in it, ends. */
    public enum StopReason {
        /** Every epoch was trained. */
        FINISHED,
        /** An operator stopped the run. */
        STOPPED,
        /** The worker is no longer a member (it was declared lost, or it left). */
        REMOVED,
        /**
         * The worker was drained (by {@link DrainWorker}: {@code clmr worker drain} or SIGTERM): the other
         * members went on without it from the step it completed last; it exits normally.
         */
        DRAINED
    }

    /** Stop working for this run. */
    public record Stop(String runId, StopReason reason) implements ToWorker {
    }

    // ---------------------------------------------------------------- operators

    /** An operator's command; each gets an {@link OperatorReply}. */
    public interface OperatorCommand extends ToCoordinator {
        /** Where the {@link OperatorReply} goes. */
        ActorRef<OperatorReply> replyTo();
    }

    /**
     * Start a run. Allowed when no run is active (idle, or the previous one completed).
     *
     * @param runId       the run's name (unique)
     * @param spec        what to train
     * @param datasetHash content hash of the packed dataset every worker must have
     * @param tracks      tracks in that dataset (steps per epoch = tracks / global batch)
     * @param ifExists    what to do when the run id exists (null: {@link IfRunExists#REFUSE})
     */
    public record StartRun(String runId, RunSpec spec, String datasetHash, long tracks,
                           ActorRef<OperatorReply> replyTo, IfRunExists ifExists) implements OperatorCommand {

        @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
        public StartRun {
        }

        /** A start of a new run id, refused when it exists. */
        public StartRun(String runId, RunSpec spec, String datasetHash, long tracks, ActorRef<OperatorReply> replyTo) {
            this(runId, spec, datasetHash, tracks, replyTo, IfRunExists.REFUSE);
        }

        /** What to do when the run id exists. */
        public IfRunExists existing() {
            return ifExists == null ? IfRunExists.REFUSE : ifExists;
        }
    }

    /** Stop issuing plans; members stop at the next plan boundary. */
    public record PauseRun(ActorRef<OperatorReply> replyTo) implements OperatorCommand {
        @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
        public PauseRun {
        }
    }

    /** Continue a paused run from the newest state. */
    public record ResumeRun(ActorRef<OperatorReply> replyTo) implements OperatorCommand {
        @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
        public ResumeRun {
        }
    }

    /** End the run; members are told to stop. */
    public record StopRun(ActorRef<OperatorReply> replyTo) implements OperatorCommand {
        @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
        public StopRun {
        }
    }

    /**
     * Drain a worker: it leaves the run at the next plan boundary, where every member holds the same
     * completed step, and the coordinator starts the next generation without it from that step (no step is
     * lost or repeated); the worker is then told {@link Stop} with {@link StopReason#DRAINED}. A worker that is
     * not training a plan (a joiner, or any member while the run is not running) leaves at once. Refused for
     * an unknown worker and for the last remaining member (the run would fall back to its last checkpoint).
     * Sent by {@code clmr worker drain} (through the coordinator's HTTP endpoint) and by a worker on SIGTERM,
     * which repeats it until it is stopped.
     *
     * @param workerId the worker, as {@code clmr status} lists it
     */
    public record DrainWorker(String workerId, ActorRef<OperatorReply> replyTo) implements OperatorCommand {
    }

    /** The answer to an operator command: whether it was done, and one line why or why not. */
    public record OperatorReply(boolean accepted, String message) implements CborSerializable {
    }

    /** Ask for the run's status. */
    public record GetStatus(ActorRef<Status> replyTo) implements ToCoordinator {
        @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
        public GetStatus {
        }
    }

    /**
     * One member as the status shows it.
     *
     * @param samplesPerSecond throughput EMA
     * @param step             steps completed as last reported (-1: none yet in this generation)
     */
    public record MemberStatus(int rank, String workerId, String host, String device, int share,
                               double samplesPerSecond, long step, double loss) implements CborSerializable {
    }

    /**
     * The run as the coordinator sees it.
     *
     * @param phase              IDLE, WAITING_FOR_WORKERS, RUNNING, PAUSED or COMPLETED
     * @param step               newest step reported by a member, else the committed step
     * @param committedStep      step of the newest committed state (generation start, epoch end or checkpoint)
     * @param pendingWorkers     registered workers that join at the next step boundary
     * @param lastCheckpoint     the newest committed checkpoint, or null
     * @param checkpointAgeSeconds seconds since it was written, or -1
     * @param phaseReason        why the run is in this phase
     */
    public record Status(String phase, String runId, long generation, List<MemberStatus> members,
                         List<String> pendingWorkers, int epoch, long step, long committedStep, long totalSteps,
                         CheckpointRecord lastCheckpoint, double checkpointAgeSeconds, String phaseReason)
            implements CborSerializable {
        public Status {
            members = List.copyOf(members);
            pendingWorkers = List.copyOf(pendingWorkers);
        }
    }
}

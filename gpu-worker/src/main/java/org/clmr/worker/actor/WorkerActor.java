package org.clmr.worker.actor;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import org.clmr.protocol.BuildInfo;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointCommitted;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointRequest;
import org.clmr.protocol.cluster.CoordinatorProtocol.DrainWorker;
import org.clmr.protocol.cluster.CoordinatorProtocol.Leave;
import org.clmr.protocol.cluster.CoordinatorProtocol.Member;
import org.clmr.protocol.cluster.CoordinatorProtocol.OperatorReply;
import org.clmr.protocol.cluster.CoordinatorProtocol.Plan;
import org.clmr.protocol.cluster.CoordinatorProtocol.Progress;
import org.clmr.protocol.cluster.CoordinatorProtocol.Reconfigure;
import org.clmr.protocol.cluster.CoordinatorProtocol.RefusalReason;
import org.clmr.protocol.cluster.CoordinatorProtocol.Register;
import org.clmr.protocol.cluster.CoordinatorProtocol.RegisterRefused;
import org.clmr.protocol.cluster.CoordinatorProtocol.Registered;
import org.clmr.protocol.cluster.CoordinatorProtocol.Stop;
import org.clmr.protocol.cluster.CoordinatorProtocol.StopReason;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToCoordinator;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToWorker;
import org.clmr.worker.actor.StepLoop.Adopted;
import org.clmr.worker.actor.StepLoop.Failed;
import org.clmr.worker.actor.StepLoop.Rejoin;
import org.clmr.worker.actor.StepLoop.Outcome;
import org.clmr.worker.actor.StepLoop.PlanDone;
import org.clmr.worker.actor.StepLoop.Report;
import org.clmr.worker.metrics.WorkerMetrics;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * A worker's actor: registers with the coordinator singleton (repeating until answered; a coordinator
 * without a run is waited for), hands {@link Reconfigure}, {@link Plan} and {@link CheckpointRequest} to the
 * {@link StepLoop} (the training thread) and forwards the loop's reports ({@link Progress}, checkpoint
 * results, peer timeouts) to the coordinator. While it waits at a plan boundary it repeats its last
 * progress, so a lost plan is re-sent. It never blocks: the loop's outcomes come back as messages. Where it
 * stands is one {@link WorkerPhase}, changed only in {@link #to}, which logs and exports each change.
 *
 * <p>Its protocol is {@link ToWorker} (what the coordinator sends) plus the local {@link Internal}
 * messages, which never leave this JVM.
 */
public final class WorkerActor extends AbstractBehavior<ToWorker> {
    private static final long NO_GENERATION = -1;

    /** Local messages of this actor (timer ticks and the training thread's outcomes); never serialized. */
    public sealed interface Internal extends ToWorker {
    }

    /** The repeat timer fired. */
    enum Tick implements Internal {
        INSTANCE
    }

    /** An outcome of the training thread. */
    record FromLoop(Outcome outcome) implements Internal {
    }

    /** The process was asked to stop gracefully (SIGTERM): drain this worker. */
    enum DrainRequested implements Internal {
        INSTANCE
    }

    /** The coordinator's answer to this worker's {@link DrainWorker}. */
    record DrainAnswer(OperatorReply reply) implements Internal {
    }

    /**
     * Who this worker is, as it registers.
     *
     * @param workerId         unique in the cluster (host and device)
     * @param aeronEndpoint    where its collectives listen
     * @param datasetHash      content hash of its packed dataset
     * @param samplesPerSecond estimate for the first share
     */
    public record Identity(String workerId, String host, String device, String aeronEndpoint, String datasetHash,
                           double samplesPerSecond) {
    }

    /** One line per completed step for the operator (and tests): generation, step, loss, fingerprint. */
    public record StepLine(String workerId, long generation, int rank, long step, int epoch, double loss,
                           double samplesPerSecond, String fingerprint) {
    }

    private final TimerScheduler<ToWorker> timers;
    private final ActorRef<ToCoordinator> coordinator;
    private final Identity id;
    private final StepLoop loop;
    private final WorkerMetrics metrics;
    private final Consumer<StepLine> steps;
    private final CompletableFuture<String> finished;
    private WorkerPhase phase = WorkerPhase.REGISTERING;
    /** The generation this worker is a member of, or {@link #NO_GENERATION}. */
    private long generation = NO_GENERATION;
    private int rank = -1;
    private long plannedTo = -1;
    private Progress lastProgress;
    private boolean idTakenSaid;

    private WorkerActor(ActorContext<ToWorker> ctx, TimerScheduler<ToWorker> timers,
                        ActorRef<ToCoordinator> coordinator, Identity id, StepLoop loop, WorkerMetrics metrics,
                        Consumer<StepLine> steps, CompletableFuture<String> finished) {
        super(ctx);
        this.timers = timers;
        this.coordinator = coordinator;
        this.id = id;
        this.loop = loop;
        this.metrics = metrics;
        this.steps = steps;
        this.finished = finished;
        metrics.phase(phase);
    }

    /**
     * The worker's behavior.
     *
     * @param coordinator    the singleton proxy
     * @param loop           the training thread; its outcomes must be told to this actor ({@link #outcome})
     * @param metrics        where the actor's phase is exported
     * @param repeatInterval how often a registration or a waiting progress report is repeated
     * @param steps          receives a line per completed step (on the actor's thread)
     * @param finished       completed with null when the run ends normally, or with the one-line reason this
     *                       worker gives up; the actor stops then
     */
    public static Behavior<ToWorker> create(ActorRef<ToCoordinator> coordinator, Identity id, StepLoop loop,
                                            WorkerMetrics metrics, Duration repeatInterval, Consumer<StepLine> steps,
                                            CompletableFuture<String> finished) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
            timers.startTimerWithFixedDelay(Tick.INSTANCE, Tick.INSTANCE, repeatInterval);
            ctx.getSelf().tell(Tick.INSTANCE);
            return new WorkerActor(ctx, timers, coordinator, id, loop, metrics, steps, finished);
        }));
    }

    /**
     * The message that drains this worker: it asks the coordinator ({@link DrainWorker}, repeated every tick)
     * to let it leave at the next plan boundary and ends when told {@link Stop}; without a run it ends at once.
     */
    public static ToWorker drain() {
        return DrainRequested.INSTANCE;
    }

    /** The message that carries a training-thread outcome to the actor. */
    public static ToWorker outcome(Outcome o) {
        return new FromLoop(o);
    }

    @Override
    public Receive<ToWorker> createReceive() {
        return newReceiveBuilder()
                .onMessage(Tick.class, t -> onTick())
                .onMessage(Registered.class, this::onRegistered)
                .onMessage(RegisterRefused.class, this::onRefused)
                .onMessage(Reconfigure.class, this::onReconfigure)
                .onMessage(Plan.class, this::onPlan)
                .onMessage(CheckpointRequest.class, this::onCheckpointRequest)
                .onMessage(CheckpointCommitted.class, this::onCommitted)
                .onMessage(Stop.class, this::onStop)
                .onMessage(FromLoop.class, m -> onOutcome(m.outcome()))
                .onMessage(DrainRequested.class, d -> onDrain())
                .onMessage(DrainAnswer.class, this::onDrainAnswer)
                .build();
    }

    // ------------------------------------------------------------------ phases

    /**
     * The one place the phase changes: logs {@code old -> new (reason, generation)} and sets the gauge.
     * Routine plan boundaries log at DEBUG, every other change at INFO.
     */
    private void to(WorkerPhase next, String reason) {
        if (next == phase) {
            return;
        }
        boolean routine = (phase == WorkerPhase.TRAINING && next == WorkerPhase.AT_BOUNDARY)
                || (phase == WorkerPhase.AT_BOUNDARY && next == WorkerPhase.TRAINING);
        if (routine) {
            getContext().getLog().debug("{} -> {} ({}, generation {})", phase, next, reason, generation);
        } else {
            getContext().getLog().info("{} -> {} ({}, generation {})", phase, next, reason, generation);
        }
        phase = next;
        metrics.phase(next);
    }

    private boolean registering() {
        return phase == WorkerPhase.REGISTERING || phase == WorkerPhase.WAITING_FOR_RUN;
    }

    private boolean draining() {
        return phase == WorkerPhase.DRAINING || phase == WorkerPhase.DRAIN_ACCEPTED;
    }

    /** A change of the training phases, which a drain under way outranks. */
    private void toTrainingPhase(WorkerPhase next, String reason) {
        if (!draining()) {
            to(next, reason);
        }
    }

    // ------------------------------------------------------------------ registration and drain

    private Behavior<ToWorker> onTick() {
        if (draining()) {
            askToDrain();
        } else if (registering()) {
            coordinator.tell(new Register(BuildInfo.protocolVersion(), id.workerId(), id.host(), id.device(),
                    id.aeronEndpoint(), id.datasetHash(), id.samplesPerSecond(), getContext().getSelf(), loop.held()));
        } else if (phase == WorkerPhase.AT_BOUNDARY && lastProgress != null) {
            coordinator.tell(lastProgress);
        }
        return this;
    }

    private Behavior<ToWorker> onDrain() {
        if (draining()) {
            return this;
        }
        if (registering()) {
            return finish(null, "drain: not registered with a run; stopping");
        }
        to(WorkerPhase.DRAINING, "drain: asking the coordinator to let " + id.workerId()
                + " leave at the next plan boundary");
        askToDrain();
        return this;
    }

    private void askToDrain() {
        ActorRef<OperatorReply> replies = getContext().messageAdapter(OperatorReply.class, DrainAnswer::new);
        coordinator.tell(new DrainWorker(id.workerId(), replies));
    }

    private Behavior<ToWorker> onDrainAnswer(DrainAnswer a) {
        if (a.reply().accepted()) {
            to(WorkerPhase.DRAIN_ACCEPTED, "drain accepted: " + a.reply().message());
            return this;
        }
        if (phase == WorkerPhase.DRAIN_ACCEPTED) {
            // a repeated request answered after the removal, ahead of the Stop in flight
            return finish(null, "drained: " + a.reply().message());
        }
        // a stop was asked for: without a drain it is an orderly leave (the run resumes as after a failure)
        getContext().getLog().warn("drain refused ({}); leaving now", a.reply().message());
        coordinator.tell(new Leave(id.workerId(), generation, "stopped (drain refused: " + a.reply().message() + ")"));
        return finish(null, "left after a refused drain");
    }

    private Behavior<ToWorker> onRegistered(Registered r) {
        if (registering()) {
            to(WorkerPhase.REGISTERED, "registered with run " + r.runId() + " (generation " + r.currentGeneration() + ")");
        }
        return this;
    }

    private Behavior<ToWorker> onRefused(RegisterRefused r) {
        // a worker outlives runs: with none running (never started, or the last one over) it waits for the next
        if (r.reason() == RefusalReason.NO_RUN || r.reason() == RefusalReason.RUN_COMPLETED) {
            if (phase == WorkerPhase.REGISTERING) {
                to(WorkerPhase.WAITING_FOR_RUN, "coordinator has no run in progress (" + r.reason()
                        + "); registering again every tick until one starts");
            }
            return this;
        }
        if (r.reason() == RefusalReason.WORKER_ID_TAKEN) {
            // this worker's id is still bound to its own earlier cluster node, which is on its way out
            if (!idTakenSaid) {
                getContext().getLog().warn("registration refused ({}): {}; registering again every tick", r.reason(),
                        r.message());
                idTakenSaid = true;
            }
            return this;
        }
        getContext().getLog().error("registration refused ({}): {}", r.reason(), r.message());
        return finish(r.message(), "registration refused (" + r.reason() + ")");
    }

    // ------------------------------------------------------------------ generations, plans, checkpoints

    private Behavior<ToWorker> onReconfigure(Reconfigure r) {
        if (r.generation() <= generation) {
            return this;
        }
        int myRank = -1;
        for (Member m : r.members()) {
            if (m.workerId().equals(id.workerId())) {
                myRank = m.rank();
            }
        }
        if (myRank < 0) {
            getContext().getLog().warn("generation {} does not include {}; waiting", r.generation(), id.workerId());
            if (registering()) {
                to(WorkerPhase.REGISTERED, "a generation was formed without it");
            }
            return this;
        }
        generation = r.generation();
        rank = myRank;
        plannedTo = r.resume().step();
        lastProgress = null;
        String what = "generation " + generation + ": rank " + rank + " of " + r.members().size() + " from "
                + r.resume().describe();
        if (draining()) {
            getContext().getLog().info("{} (draining)", what);
        } else {
            to(WorkerPhase.ADOPTING, what);
        }
        return submitted(loop.adopt(r, rank), r);
    }

    private Behavior<ToWorker> onPlan(Plan p) {
        if (p.generation() != generation || p.toStep() <= plannedTo) {
            return this;
        }
        plannedTo = p.toStep();
        toTrainingPhase(WorkerPhase.TRAINING, "plan of steps [" + p.fromStep() + ", " + p.toStep() + ")");
        return submitted(loop.train(p), p);
    }

    private Behavior<ToWorker> onCheckpointRequest(CheckpointRequest c) {
        if (c.generation() != generation || rank != 0) {
            getContext().getLog().warn("checkpoint request {} of generation {} ignored (generation {}, rank {})",
                    c.checkpointId(), c.generation(), generation, rank);
            return this;
        }
        return submitted(loop.checkpoint(c), c);
    }

    private Behavior<ToWorker> onCommitted(CheckpointCommitted c) {
        getContext().getLog().info("checkpoint {} of step {} committed", c.checkpointId(), c.record().step());
        return this;
    }

    private Behavior<ToWorker> onStop(Stop s) {
        String why = "stop: run " + s.runId() + " " + s.reason();
        return finish(s.reason() == StopReason.REMOVED ? "removed from run " + s.runId() + " by the coordinator" : null, why);
    }

    // ------------------------------------------------------------------ the training thread's outcomes

    private Behavior<ToWorker> onOutcome(Outcome o) {
        if (o instanceof Report r) {
            return onReport(r.message());
        } else if (o instanceof Adopted a) {
            if (a.generation() == generation && plannedTo <= a.step()) {
                lastProgress = new Progress(id.workerId(), a.generation(), a.step(), 0, Double.NaN,
                        id.samplesPerSecond(), a.fingerprint());
                toTrainingPhase(WorkerPhase.AT_BOUNDARY, "adopted the state of step " + a.step());
            } else if (a.generation() == generation) {
                toTrainingPhase(WorkerPhase.TRAINING, "adopted the state of step " + a.step() + ", training to step "
                        + plannedTo);
            }
        } else if (o instanceof PlanDone p) {
            if (p.generation() == generation && p.step() >= plannedTo) {
                toTrainingPhase(WorkerPhase.AT_BOUNDARY, "plan done at step " + p.step());
            }
        } else if (o instanceof Failed f) {
            return leave(f.generation(), f.reason());
        } else if (o instanceof Rejoin j) {
            return rejoin(j);
        }
        return this;
    }

    /**
     * Leaves the generation a starved host's Aeron client failed and registers again (the next generation gets a
     * new client); a draining worker just leaves, as it would have at its next boundary.
     */
    private Behavior<ToWorker> rejoin(Rejoin j) {
        if (draining()) {
            return leave(j.generation(), j.reason());
        }
        getContext().getLog().warn("leaving generation {} to register again: {}", j.generation(), j.reason());
        coordinator.tell(new Leave(id.workerId(), j.generation(), j.reason()));
        to(WorkerPhase.REGISTERING, "left generation " + j.generation() + " to rejoin (" + j.reason() + ")");
        // the generation left is no longer this worker's: its late outcomes and plans must not move the phase
        generation = NO_GENERATION;
        lastProgress = null;
        return this;
    }

    private Behavior<ToWorker> onReport(ToCoordinator message) {
        if (message instanceof Progress p) {
            if (p.generation() != generation) {
                return this;
            }
            lastProgress = p;
            steps.accept(new StepLine(id.workerId(), p.generation(), rank, p.step(), p.epoch(), p.loss(),
                    p.samplesPerSecond(), p.weightsFingerprint()));
        }
        coordinator.tell(message);
        return this;
    }

    private Behavior<ToWorker> leave(long gen, String reason) {
        getContext().getLog().error("leaving the run: {}", reason);
        coordinator.tell(new Leave(id.workerId(), gen, reason));
        return finish(reason, "left the run");
    }

    private Behavior<ToWorker> submitted(boolean accepted, ToWorker task) {
        if (!accepted) {
            return leave(generation, "the training thread's queue is full (" + task + ")");
        }
        return this;
    }

    /**
     * Ends this worker's part: the owner of the process is told and leaves the cluster gracefully
     * (coordinated shutdown). The actor stays alive but deaf until then: it is the system's guardian, and
     * stopping it would stop the node before its leave reached the coordinator.
     *
     * @param failure null for a normal end, else the one-line reason this worker gives up
     */
    private Behavior<ToWorker> finish(String failure, String reason) {
        to(WorkerPhase.FINISHED, reason);
        timers.cancelAll();
        finished.complete(failure);
        return Behaviors.ignore();
    }
}

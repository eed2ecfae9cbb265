package org.clmr.coordinator;

import akka.actor.Address;
import akka.actor.ExtendedActorSystem;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.cluster.Cluster;
import akka.cluster.ClusterActorRefProvider;
import akka.persistence.typed.PersistenceId;
import akka.persistence.typed.RecoveryCompleted;
import akka.persistence.typed.RecoveryFailed;
import akka.persistence.typed.javadsl.CommandHandlerWithReply;
import akka.persistence.typed.javadsl.EffectBuilder;
import akka.persistence.typed.javadsl.EventHandler;
import akka.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import akka.persistence.typed.javadsl.ReplyEffect;
import akka.persistence.typed.javadsl.RetentionCriteria;
import akka.persistence.typed.javadsl.SignalHandler;
import org.clmr.coordinator.journal.CoordinatorEvent;
import org.clmr.coordinator.journal.CoordinatorEvent.CheckpointRecorded;
import org.clmr.coordinator.journal.CoordinatorEvent.EpochCompleted;
import org.clmr.coordinator.journal.CoordinatorEvent.GenerationStarted;
import org.clmr.coordinator.journal.CoordinatorEvent.RunCompleted;
import org.clmr.coordinator.journal.CoordinatorEvent.RunPaused;
import org.clmr.coordinator.journal.CoordinatorEvent.RunResumed;
import org.clmr.coordinator.journal.CoordinatorEvent.RunStarted;
import org.clmr.coordinator.journal.CoordinatorEvent.WorkerJoined;
import org.clmr.coordinator.journal.CoordinatorEvent.WorkerRemoved;
import org.clmr.coordinator.journal.CoordinatorState;
import org.clmr.coordinator.journal.CoordinatorState.Completed;
import org.clmr.coordinator.journal.CoordinatorState.Idle;
import org.clmr.coordinator.journal.CoordinatorState.Paused;
import org.clmr.coordinator.journal.CoordinatorState.Running;
import org.clmr.coordinator.journal.CoordinatorState.WaitingForWorkers;
import org.clmr.coordinator.journal.FailureReason;
import org.clmr.coordinator.journal.RunData;
import org.clmr.coordinator.journal.WorkerInfo;
import org.clmr.protocol.BuildInfo;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.checkpoint.CheckpointStore;
import org.clmr.protocol.checkpoint.RetentionPolicy;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointFailed;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointRequest;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointWritten;
import org.clmr.protocol.cluster.CoordinatorProtocol.DrainWorker;
import org.clmr.protocol.cluster.CoordinatorProtocol.GetStatus;
import org.clmr.protocol.cluster.CoordinatorProtocol.Leave;
import org.clmr.protocol.cluster.CoordinatorProtocol.Member;
import org.clmr.protocol.cluster.CoordinatorProtocol.OperatorReply;
import org.clmr.protocol.cluster.CoordinatorProtocol.PauseRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.PeerTimeout;
import org.clmr.protocol.cluster.CoordinatorProtocol.Plan;
import org.clmr.protocol.cluster.CoordinatorProtocol.Progress;
import org.clmr.protocol.cluster.CoordinatorProtocol.Reconfigure;
import org.clmr.protocol.cluster.CoordinatorProtocol.RefusalReason;
import org.clmr.protocol.cluster.CoordinatorProtocol.Register;
import org.clmr.protocol.cluster.CoordinatorProtocol.RegisterRefused;
import org.clmr.protocol.cluster.CoordinatorProtocol.Registered;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumePoint;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumeRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.StartRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.Stop;
import org.clmr.protocol.cluster.CoordinatorProtocol.StopReason;
import org.clmr.protocol.cluster.CoordinatorProtocol.StopRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToCoordinator;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToWorker;
import org.slf4j.Logger;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * The run's coordinator: an event-sourced behavior (run as a Cluster Singleton by {@link CoordinatorNode})
 * that owns the run spec, membership generations, shares, committed progress and checkpoints.
 *
 * <p>Events are few (see {@link CoordinatorEvent}); per-step progress lives in memory
 * ({@link ProgressTracker}) and workers repeat their newest report while they wait at a plan boundary,
 * so a coordinator that moved to another node picks up where the run is. Side effects (tells, logs,
 * metrics) run only after events are persisted, in {@link #afterPersist}, the one transition point.
 * Runs on the actor's thread; checkpoint verification runs on Akka's blocking dispatcher and comes back
 * as a message.
 */
public final class Coordinator
        extends EventSourcedBehaviorWithEnforcedReplies<ToCoordinator, CoordinatorEvent, CoordinatorState> {

    /** Internal: a watched worker actor terminated (its node was downed and removed, or it stopped). */
    public record WorkerTerminated(String workerId, ActorRef<ToWorker> ref) implements ToCoordinator {
    }

    /** Internal: the result of reading a written checkpoint back; {@code failure} is null when it verified. */
    public record CheckpointVerified(long checkpointId, CheckpointRecord record, String failure)
            implements ToCoordinator {
    }

    /**
     * Internal, sent to itself after recovery: forget recorded workers whose nodes are not in the cluster
     * this incarnation runs in (they registered with an earlier one and will register again).
     */
    public enum CheckMembers implements ToCoordinator {
        INSTANCE
    }

    /** Internal: the peer-timeout window of this generation is over; decide on the reports gathered. */
    public record DecidePeerTimeouts(long generation) implements ToCoordinator {
    }

    /** Internal: the formation delay after the first registration of a waiting run is over. */
    public enum FormGeneration implements ToCoordinator {
        INSTANCE
    }

    /** A checkpoint asked of rank 0 and not yet committed (in memory only). */
    private record PendingCheckpoint(long id, long step, long generation, boolean verifying) {
    }

    private final ActorContext<ToCoordinator> context;
    private final TimerScheduler<ToCoordinator> timers;
    private final CoordinatorSettings settings;
    private final CheckpointStore store;
    private final CoordinatorMetrics metrics;
    private final Clock clock;
    private final Logger log;
    private final Executor blocking;
    private final ProgressTracker progress;
    private final RunPlanner planner;
    private final Set<ActorRef<ToWorker>> watched = new HashSet<>();
    /** Peer-timeout reports of {@link #suspicionGeneration} in the current window: reporter -> silent ids. */
    private final Map<String, List<String>> suspicions = new LinkedHashMap<>();
    private long suspicionGeneration = -1;
    /** Members to drain at the next plan boundary (in memory: a draining worker repeats its request). */
    private final Set<String> draining = new LinkedHashSet<>();
    private final long createdNanos = System.nanoTime();
    private long plannedFrom = -1;
    private long plannedGeneration = -1;
    private PendingCheckpoint pendingCheckpoint;
    private long nextCheckpointId = 1;
    private int checkpointFailures;
    /** The run's last step when its final checkpoint failed (the run then completes without it), else -1. */
    private long finalCheckpointFailedAt = -1;
    /** False from recovery until {@link CheckMembers} ran: registrations wait (stashed) until then. */
    private boolean membersChecked;

    private Coordinator(ActorContext<ToCoordinator> context, TimerScheduler<ToCoordinator> timers,
                        CoordinatorSettings settings, CheckpointStore store, CoordinatorMetrics metrics, Clock clock) {
        super(PersistenceId.ofUniqueId(settings.persistenceId()));
        this.context = context;
        this.timers = timers;
        this.settings = settings;
        this.store = store;
        this.metrics = metrics;
        this.clock = clock;
        this.log = context.getLog();
        this.blocking = context.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
        this.progress = new ProgressTracker(settings.throughputEmaAlpha());
        this.planner = new RunPlanner(settings, progress, log);
    }

    /**
     * The coordinator's behavior.
     *
     * @param store   where rank 0 writes checkpoints; the coordinator reads them back to verify
     * @param metrics updated on every transition
     * @param clock   the only source of time (stored in events)
     */
    public static Behavior<ToCoordinator> create(CoordinatorSettings settings, CheckpointStore store,
                                                 CoordinatorMetrics metrics, Clock clock) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
                new Coordinator(ctx, timers, settings, store, metrics, clock)));
    }

    @Override
    public CoordinatorState emptyState() {
        return new Idle("no run started");
    }

    @Override
    public RetentionCriteria retentionCriteria() {
        return RetentionCriteria.snapshotEvery(settings.snapshotEveryEvents(), 2);
    }

    @Override
    public EventHandler<CoordinatorState, CoordinatorEvent> eventHandler() {
        return newEventHandlerBuilder().forAnyState().onAnyEvent(CoordinatorState::apply);
    }

    @Override
    public SignalHandler<CoordinatorState> signalHandler() {
        return newSignalHandlerBuilder()
                .onSignal(RecoveryCompleted.class, (state, signal) -> onRecovered(state))
                .onSignal(RecoveryFailed.class, (state, signal) ->
                        log.error("coordinator recovery from the journal failed: {}", signal.getFailure().toString()))
                .build();
    }

    @Override
    public CommandHandlerWithReply<ToCoordinator, CoordinatorEvent, CoordinatorState> commandHandler() {
        return newCommandHandlerWithReplyBuilder().forAnyState()
                .onCommand(Register.class, this::onRegister)
                .onCommand(Progress.class, this::onProgress)
                .onCommand(CheckpointWritten.class, this::onCheckpointWritten)
                .onCommand(CheckpointFailed.class, this::onCheckpointFailed)
                .onCommand(CheckpointVerified.class, this::onCheckpointVerified)
                .onCommand(Leave.class, this::onLeave)
                .onCommand(PeerTimeout.class, this::onPeerTimeout)
                .onCommand(DecidePeerTimeouts.class, this::onDecidePeerTimeouts)
                .onCommand(WorkerTerminated.class, this::onTerminated)
                .onCommand(FormGeneration.class, (state, c) -> onFormGeneration(state))
                .onCommand(CheckMembers.class, (state, c) -> onCheckMembers(state))
                .onCommand(StartRun.class, this::onStart)
                .onCommand(PauseRun.class, this::onPause)
                .onCommand(ResumeRun.class, this::onResume)
                .onCommand(StopRun.class, this::onStop)
                .onCommand(DrainWorker.class, this::onDrain)
                .onCommand(GetStatus.class, (state, c) -> Effect().reply(c.replyTo(), StatusView.of(state, progress, clock)))
                .build();
    }

    // ------------------------------------------------------------------ registration and membership

    private ReplyEffect<CoordinatorEvent, CoordinatorState> onRegister(CoordinatorState state, Register c) {
        if (!membersChecked) {
            // a worker that comes back after a coordinator restart must not be matched with its entry of the
            // earlier incarnation before those entries are checked (that would start a generation per worker)
            return Effect().stash();
        }
        if (c.protocolVersion() != BuildInfo.protocolVersion()) {
            return refuse(c, RefusalReason.PROTOCOL_VERSION, "worker " + c.workerId() + " speaks protocol "
                    + c.protocolVersion() + ", this coordinator " + BuildInfo.protocolVersion()
                    + ": run the same clmr build (" + BuildInfo.version() + ") on every node");
        }
        if (state instanceof Idle) {
            return refuse(c, RefusalReason.NO_RUN, "no run is started on this coordinator: start one with "
                    + "`clmr control start`, then start worker " + c.workerId() + " again");
        }
        RunData run = state.run().orElseThrow();
        if (state instanceof Completed done) {
            return refuse(c, RefusalReason.RUN_COMPLETED, "run " + run.runId() + " is " + done.reason()
                    + ": start a new run before registering worker " + c.workerId());
        }
        if (!c.datasetHash().equals(run.datasetHash())) {
            return refuse(c, RefusalReason.DATASET_MISMATCH, "worker " + c.workerId() + " reads dataset "
                    + c.datasetHash() + " but run " + run.runId() + " trains on " + run.datasetHash()
                    + ": give the worker the run's packed dataset");
        }
        Optional<WorkerInfo> known = run.member(c.workerId()).or(() -> run.joiner(c.workerId()));
        if (known.isPresent() && known.get().ref().equals(c.replyTo())) {
            metrics.classified("register", Classification.DUPLICATE);
            return Effect().none()
                    .thenRun(s -> {
                        if (s instanceof Running r && r.data().member(c.workerId()).isPresent()) {
                            c.replyTo().tell(reconfigure(r.data()));
                        }
                    })
                    .thenReply(c.replyTo(), s -> registered(c, s));
        }
        metrics.classified("register", Classification.ACCEPTED);
        Instant now = clock.instant();
        List<CoordinatorEvent> events = new ArrayList<>();
        if (known.isPresent()) {
            events.add(new WorkerRemoved(c.workerId(), FailureReason.RESTARTED, now));
        }
        events.add(new WorkerJoined(WorkerInfo.of(c), now));
        if (state instanceof Running && known.isPresent() && run.member(c.workerId()).isPresent()) {
            events.addAll(nextGeneration(run, List.of(c.workerId()), List.of(WorkerInfo.of(c)),
                    c.workerId() + " restarted", now));
        } else if (state instanceof WaitingForWorkers) {
            if (settings.formationDelay().isZero()) {
                List<WorkerInfo> joiners = new ArrayList<>(run.pending());
                joiners.removeIf(w -> w.workerId().equals(c.workerId()));
                joiners.add(WorkerInfo.of(c));
                events.add(planner.generation(run, joiners, "first members", now));
            } else if (!timers.isTimerActive(FormGeneration.INSTANCE)) {
                timers.startSingleTimer(FormGeneration.INSTANCE, FormGeneration.INSTANCE, settings.formationDelay());
            }
        }
        return persist(state, events).thenReply(c.replyTo(), s -> registered(c, s));
    }

    private ReplyEffect<CoordinatorEvent, CoordinatorState> refuse(Register c, RefusalReason reason, String message) {
        return Effect().none()
                .thenRun(s -> {
                    metrics.rejected(reason.name());
                    log.warn("registration refused ({}): {}", reason, message);
                })
                .thenReply(c.replyTo(), s -> new RegisterRefused(c.workerId(), reason, message));
    }

    private static Registered registered(Register c, CoordinatorState s) {
        RunData run = s.run().orElseThrow();
        return new Registered(c.workerId(), run.runId(), run.spec(), run.generation());
    }

    private ReplyEffect<CoordinatorEvent, CoordinatorState> onFormGeneration(CoordinatorState state) {
        if (state instanceof WaitingForWorkers w && !w.data().pending().isEmpty()) {
            GenerationStarted first = planner.generation(w.data(), w.data().pending(), "first members", clock.instant());
            return persist(state, List.of(first)).thenNoReply();
        }
        return Effect().none().thenNoReply();
    }

    private ReplyEffect<CoordinatorEvent, CoordinatorState> onCheckMembers(CoordinatorState state) {
        membersChecked = true;
        List<String> gone = new ArrayList<>();
        if (!(state instanceof Completed)) {
            state.run().ifPresent(run -> {
                run.members().stream().filter(w -> !inCluster(w)).forEach(w -> gone.add(w.workerId()));
                run.pending().stream().filter(w -> !inCluster(w)).forEach(w -> gone.add(w.workerId()));
            });
        }
        if (gone.isEmpty()) {
            return Effect().none().thenNoReply().thenUnstashAll();
        }
        return remove(state, "recovered", gone, FailureReason.LOST_WITH_COORDINATOR,
                gone + " registered with an earlier coordinator and are not in this cluster")
                .thenUnstashAll();
    }

    /**
     * Whether a recorded worker's node is a member of the cluster this coordinator runs in. A worker of an
     * earlier coordinator incarnation whose node has not rejoined is not (its actor is gone with its old
     * node); refs without a remote address (one JVM, tests) always are.
     */
    private boolean inCluster(WorkerInfo w) {
        Address address = w.ref().path().address();
        if (!address.hasGlobalScope() || !(context.getSystem().classicSystem() instanceof ExtendedActorSystem sys)
                || !(sys.provider() instanceof ClusterActorRefProvider)) {
            return true;
        }
        for (akka.cluster.Member m : Cluster.get(sys).state().getMembers()) {
            akka.cluster.MemberStatus status = m.status();
            if (m.address().equals(address) && (status == akka.cluster.MemberStatus.up()
                    || status == akka.cluster.MemberStatus.weaklyUp() || status == akka.cluster.MemberStatus.joining())) {
                return true;
            }
        }
        return false;
    }

    private ReplyEffect<CoordinatorEvent, CoordinatorState> onLeave(CoordinatorState state, Leave c) {
        return remove(state, "leave", List.of(c.workerId()), FailureReason.LEFT,
                c.workerId() + " left (" + c.reason() + ")");
    }

    private ReplyEffect<CoordinatorEvent, CoordinatorState> onTerminated(CoordinatorState state, WorkerTerminated c) {
        watched.remove(c.ref());
        Optional<RunData> run = state.run();
        boolean current = run.flatMap(r -> r.member(c.workerId()).or(() -> r.joiner(c.workerId())))
                .map(w -> w.ref().equals(c.ref())).orElse(false);
        if (!current) {
            metrics.classified("terminated", Classification.DUPLICATE);
            return Effect().none().thenNoReply();
        }
        return remove(state, "terminated", List.of(c.workerId()), FailureReason.TERMINATED,
                c.workerId() + " terminated (downed or stopped)");
    }

    private ReplyEffect<CoordinatorEvent, CoordinatorState> onPeerTimeout(CoordinatorState state, PeerTimeout c) {
        Optional<RunData> maybeRun = state.run();
        if (!(state instanceof Running) || maybeRun.isEmpty()) {
            metrics.classified("peer-timeout", Classification.STALE);
            return Effect().none().thenNoReply();
        }
        RunData run = maybeRun.get();
        Classification cls = c.generation() < run.generation() ? Classification.STALE
                : c.generation() > run.generation() || run.member(c.reporterId()).isEmpty()
                ? Classification.UNKNOWN : Classification.ACCEPTED;
        List<String> silent = new ArrayList<>();
        for (int rank : c.silentRanks()) {
            if (rank >= 0 && rank < run.members().size()) {
                String id = run.members().get(rank).workerId();
                if (!id.equals(c.reporterId()) && !silent.contains(id)) {
                    silent.add(id);
                }
            }
        }
        if (cls == Classification.ACCEPTED && silent.isEmpty()) {
            cls = Classification.UNKNOWN;
        }
        metrics.classified("peer-timeout", cls);
        if (cls != Classification.ACCEPTED) {
            log.warn("peer timeout report from {} (generation {}, step {}) is {}", c.reporterId(), c.generation(),
                    c.step(), cls);
            return Effect().none().thenNoReply();
        }
        if (suspicionGeneration != run.generation()) {
            suspicions.clear();
            suspicionGeneration = run.generation();
        }
        suspicions.computeIfAbsent(c.reporterId(), k -> new ArrayList<>()).addAll(silent);
        if (settings.peerTimeoutWindow().isZero()) {
            return decidePeerTimeouts(state, run, c.step());
        }
        if (!timers.isTimerActive(DecidePeerTimeouts.class)) {
            timers.startSingleTimer(DecidePeerTimeouts.class, new DecidePeerTimeouts(run.generation()),
                    settings.peerTimeoutWindow());
        }
        return Effect().none().thenNoReply();
    }

    private ReplyEffect<CoordinatorEvent, CoordinatorState> onDecidePeerTimeouts(CoordinatorState state,
                                                                                DecidePeerTimeouts c) {
        Optional<RunData> maybeRun = state.run();
        if (!(state instanceof Running) || maybeRun.isEmpty() || maybeRun.get().generation() != c.generation()
                || suspicionGeneration != c.generation() || suspicions.isEmpty()) {
            suspicions.clear();           // the generation moved on meanwhile: those reports are stale
            return Effect().none().thenNoReply();
        }
        return decidePeerTimeouts(state, maybeRun.get(), -1);
    }

    /**
     * Whom the gathered peer-timeout reports evict. A reporter is alive, so the suspects are the ranks reported
     * silent that did not report themselves (a worker that abandons a step closes its links, and its peers may
     * then report it too). If every one reported is a reporter, the first report stands alone. As before, a
     * reporter that finds most of a larger generation silent is the one cut off.
     */
    private ReplyEffect<CoordinatorEvent, CoordinatorState> decidePeerTimeouts(CoordinatorState state, RunData run,
                                                                              long step) {
        List<String> reporters = List.copyOf(suspicions.keySet());
        List<String> silent = new ArrayList<>();
        suspicions.values().forEach(ids -> ids.stream()
                .filter(id -> !reporters.contains(id) && !silent.contains(id)).forEach(silent::add));
        List<String> accusers = reporters;
        if (silent.isEmpty()) {
            accusers = List.of(reporters.get(0));
            suspicions.get(accusers.get(0)).stream().distinct().forEach(silent::add);
        }
        suspicions.clear();
        boolean evictSilent = settings.tolerance().evictSilent(run.members().size(), silent.size());
        List<String> doomed = evictSilent ? silent : accusers;
        return remove(state, "peer-timeout", doomed, FailureReason.PEER_TIMEOUT,
                accusers + " timed out on " + silent + (step >= 0 ? " at step " + step : "")
                        + (evictSilent ? "" : "; the reporter is the one cut off"));
    }

    /** Removes workers; a member's removal while running starts a new generation with the survivors. */
    private ReplyEffect<CoordinatorEvent, CoordinatorState> remove(CoordinatorState state, String type,
                                                                  List<String> workerIds, FailureReason reason,
                                                                  String why) {
        return removeEffect(state, type, workerIds, reason, why).thenNoReply();
    }

    /** The effect of {@link #remove}, for callers that chain more side effects. */
    private EffectBuilder<CoordinatorEvent, CoordinatorState> removeEffect(CoordinatorState state, String type,
                                                                          List<String> workerIds, FailureReason reason,
                                                                          String why) {
        Optional<RunData> maybeRun = state.run();
        List<String> known = new ArrayList<>();
        maybeRun.ifPresent(run -> workerIds.stream()
                .filter(id -> run.member(id).isPresent() || run.joiner(id).isPresent()).forEach(known::add));
        if (known.isEmpty()) {
            metrics.classified(type, Classification.UNKNOWN);
            return Effect().none();
        }
        metrics.classified(type, Classification.ACCEPTED);
        RunData run = maybeRun.get();
        Instant now = clock.instant();
        List<CoordinatorEvent> events = new ArrayList<>();
        for (String id : known) {
            events.add(new WorkerRemoved(id, reason, now));
        }
        boolean memberLost = known.stream().anyMatch(id -> run.member(id).isPresent());
        if (state instanceof Running && memberLost) {
            events.addAll(nextGeneration(run, known, List.of(), why, now));
        }
        return persist(state, events);
    }

    /**
     * The generation after some members are gone (and joiners added): survivors keep their order, then
     * joiners; nothing when nobody is left (the run then waits for workers).
     */
    private List<CoordinatorEvent> nextGeneration(RunData run, List<String> gone, List<WorkerInfo> extraJoiners,
                                                  String why, Instant now) {
        List<WorkerInfo> candidates = new ArrayList<>();
        for (WorkerInfo w : run.members()) {
            if (!gone.contains(w.workerId())) {
                candidates.add(w);
            }
        }
        for (WorkerInfo w : run.pending()) {
            if (!gone.contains(w.workerId())) {
                candidates.add(w);
            }
        }
        candidates.addAll(extraJoiners);
        if (candidates.isEmpty()) {
            return List.of();
        }
        return List.of(planner.generation(run, candidates, why, now));
    }

    // ------------------------------------------------------------------ progress and plans

    private ReplyEffect<CoordinatorEvent, CoordinatorState> onProgress(CoordinatorState state, Progress p) {
        Optional<RunData> maybeRun = state.run();
        Optional<WorkerInfo> member = maybeRun.flatMap(r -> r.member(p.workerId()));
        if (member.isEmpty() || !(state instanceof Running || state instanceof Paused)) {
            metrics.classified("progress", Classification.UNKNOWN);
            if (state instanceof Completed done && member.isPresent()) {
                member.get().ref().tell(new Stop(done.data().runId(), done.stopReason()));
            }
            return Effect().none().thenNoReply();
        }
        RunData run = maybeRun.get();
        if (p.generation() != run.generation()) {
            Classification cls = p.generation() < run.generation() ? Classification.STALE : Classification.UNKNOWN;
            metrics.classified("progress", cls);
            log.debug("progress of {} at step {} is {} (generation {}, current {})", p.workerId(), p.step(), cls,
                    p.generation(), run.generation());
            return Effect().none().thenNoReply();
        }
        Classification cls = progress.record(p, member.get().samplesPerSecond());
        metrics.classified("progress", cls);
        if (cls == Classification.ACCEPTED) {
            progress.divergentFrom(p).ifPresent(other -> {
                metrics.diverged();
                log.warn("weights diverged at step {} of generation {}: {} has {}, {}", p.step(), p.generation(),
                        p.workerId(), p.weightsFingerprint(), other);
            });
        }
        boolean boundary = planner.isBoundary(run, p.step()) || p.step() == run.resume().step();
        if (!boundary || !(state instanceof Running running)) {
            return Effect().none().thenNoReply();
        }
        boolean alreadyPlanned = plannedGeneration == run.generation() && p.step() <= plannedFrom;
        if (alreadyPlanned) {
            if (p.step() == plannedFrom) {
                member.get().ref().tell(planner.plan(run, p.step()));
            }
            return Effect().none().thenNoReply();
        }
        return onBoundary(running, run, p.step(), p.workerId());
    }

    /** The members reached a plan boundary: record epochs, admit joiners, re-balance, checkpoint, plan on. */
    private ReplyEffect<CoordinatorEvent, CoordinatorState> onBoundary(Running state, RunData run, long step,
                                                                      String reporter) {
        Instant now = clock.instant();
        List<CoordinatorEvent> events = new ArrayList<>();
        long spe = run.stepsPerEpoch();
        if (step % spe == 0 && step / spe > run.committedEpoch()) {
            events.add(new EpochCompleted((int) (step / spe - 1), step, now));
        }
        if (step >= run.totalSteps()) {
            // the run's end is made durable first: the run completes when the final checkpoint is committed
            // (or could not be written; then it completes without it)
            boolean saved = run.lastCheckpoint() != null && run.lastCheckpoint().step() >= step;
            if (!saved && finalCheckpointFailedAt != step) {
                if (pendingCheckpoint == null || pendingCheckpoint.step() < step) {
                    requestCheckpoint(run, step);
                }
                return persist(state, events).thenNoReply();
            }
            events.add(new RunCompleted(StopReason.FINISHED, now));
            return persist(state, events).thenNoReply();
        }
        if (run.members().stream().anyMatch(w -> draining.contains(w.workerId()))) {
            return drainAt(state, run, step, reporter, events, now);
        }
        String why = null;
        if (!run.pending().isEmpty()) {
            why = "joined at step " + step + ": " + run.pending().stream().map(WorkerInfo::workerId).toList();
        } else if (planner.worthRebalancing(run)) {
            why = "re-balanced shares at step " + step;
        }
        if (why != null) {
            List<WorkerInfo> candidates = new ArrayList<>(run.members());
            candidates.addAll(run.pending());
            List<WorkerInfo> members = planner.shares(run, candidates);
            int rank = Math.max(0, run.rankOf(reporter));
            events.add(new GenerationStarted(run.generation() + 1, members,
                    ResumePoint.fromRank(step, RunPlanner.epochOf(run, step), rank), why, now));
            return persist(state, events).thenNoReply();
        }
        if (events.isEmpty()) {
            return Effect().none().thenRun(s -> s.run().ifPresent(r -> continueAt(r, step))).thenNoReply();
        }
        return persist(state, events).thenRun(s -> {
            if (s instanceof Running r) {
                continueAt(r.data(), step);
            }
        }).thenNoReply();
    }

    /** Members hold {@code step}: ask for a checkpoint if one is due, then plan the next steps. */
    private void continueAt(RunData run, long step) {
        plannedFrom = step;
        plannedGeneration = run.generation();
        requestCheckpointIfDue(run, step);
        Plan plan = planner.plan(run, step);
        for (WorkerInfo w : run.members()) {
            w.ref().tell(plan);
        }
    }

    // ------------------------------------------------------------------ checkpoints

    private void requestCheckpointIfDue(RunData run, long step) {
        CheckpointRecord last = run.lastCheckpoint();
        boolean due = step > 0 && step % run.spec().checkpoint().everySteps() == 0
                && (last == null || last.step() < step)
                && (pendingCheckpoint == null || pendingCheckpoint.step() < step);
        if (due) {
            requestCheckpoint(run, step);
        }
    }

    private void requestCheckpoint(RunData run, long step) {
        if (run.members().isEmpty()) {
            return;
        }
        pendingCheckpoint = new PendingCheckpoint(nextCheckpointId++, step, run.generation(), false);
        run.members().get(0).ref().tell(new CheckpointRequest(run.generation(), pendingCheckpoint.id(), step));
        log.info("checkpoint {} of step {} requested from {}", pendingCheckpoint.id(), step,
                run.members().get(0).workerId());
    }

    private ReplyEffect<CoordinatorEvent, CoordinatorState> onCheckpointWritten(CoordinatorState state,
                                                                               CheckpointWritten c) {
        Optional<RunData> maybeRun = state.run();
        PendingCheckpoint p = pendingCheckpoint;
        Classification cls;
        if (maybeRun.isEmpty()) {
            cls = Classification.UNKNOWN;
        } else if (p != null && p.id() == c.checkpointId() && p.step() == c.record().step() && !p.verifying()) {
            cls = Classification.ACCEPTED;
        } else if (c.checkpointId() == maybeRun.get().lastCheckpointId() || (p != null && p.id() == c.checkpointId())) {
            cls = Classification.DUPLICATE;
        } else if (c.generation() < maybeRun.get().generation()) {
            cls = Classification.STALE;
        } else {
            cls = Classification.UNKNOWN;
        }
        metrics.classified("checkpoint-written", cls);
        if (cls != Classification.ACCEPTED) {
            log.warn("checkpoint {} of step {} from {} is {}; ignored", c.checkpointId(), c.record().step(),
                    c.workerId(), cls);
            return Effect().none().thenNoReply();
        }
        pendingCheckpoint = new PendingCheckpoint(p.id(), p.step(), p.generation(), true);
        RunData run = maybeRun.get();
        String runId = run.runId();
        String specHash = run.spec().hash();
        CheckpointRecord record = c.record();
        context.pipeToSelf(CompletableFuture.supplyAsync(
                        () -> CheckpointVerifier.verify(store, record, runId, specHash), blocking),
                (ok, err) -> new CheckpointVerified(p.id(), record, err == null ? null : rootMessage(err)));
        return Effect().none().thenNoReply();
    }

    private static String rootMessage(Throwable t) {
        Throwable e = t;
        while (e.getCause() != null) {
            e = e.getCause();
        }
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }

    private ReplyEffect<CoordinatorEvent, CoordinatorState> onCheckpointVerified(CoordinatorState state,
                                                                                CheckpointVerified c) {
        PendingCheckpoint p = pendingCheckpoint;
        if (p == null || p.id() != c.checkpointId()) {
            return Effect().none().thenNoReply();
        }
        pendingCheckpoint = null;
        if (c.failure() != null) {
            return checkpointFailure(state, p.step(), "checkpoint " + c.checkpointId() + " of step " + p.step()
                    + " failed verification: " + c.failure());
        }
        checkpointFailures = 0;
        Optional<RunData> run = state.run();
        if (run.isEmpty() || state instanceof Completed
                || (run.get().lastCheckpoint() != null && run.get().lastCheckpoint().step() >= c.record().step())) {
            return Effect().none().thenNoReply();
        }
        List<CoordinatorEvent> events = new ArrayList<>();
        events.add(new CheckpointRecorded(c.checkpointId(), c.record(), clock.instant()));
        if (state instanceof Running && c.record().step() >= run.get().totalSteps()) {
            events.add(new RunCompleted(StopReason.FINISHED, clock.instant()));
        }
        return persist(state, events).thenNoReply();
    }

    private ReplyEffect<CoordinatorEvent, CoordinatorState> onCheckpointFailed(CoordinatorState state,
                                                                              CheckpointFailed c) {
        PendingCheckpoint p = pendingCheckpoint;
        if (p == null || p.id() != c.checkpointId()) {
            metrics.classified("checkpoint-failed", Classification.UNKNOWN);
            return Effect().none().thenNoReply();
        }
        metrics.classified("checkpoint-failed", Classification.ACCEPTED);
        pendingCheckpoint = null;
        return checkpointFailure(state, c.step(), "checkpoint " + c.checkpointId() + " of step " + c.step()
                + " was not written by " + c.workerId() + ": " + c.reason());
    }

    private ReplyEffect<CoordinatorEvent, CoordinatorState> checkpointFailure(CoordinatorState state, long step,
                                                                             String what) {
        checkpointFailures++;
        metrics.checkpointFailed();
        log.warn("{} ({} in a row)", what, checkpointFailures);
        if (state instanceof Running r && step >= r.data().totalSteps()) {
            finalCheckpointFailedAt = step;
            log.warn("the run completes without a checkpoint of its last step {}; its newest is {}", step,
                    r.data().lastCheckpoint() == null ? "none" : "of step " + r.data().lastCheckpoint().step());
            return persist(state, List.of(new RunCompleted(StopReason.FINISHED, clock.instant()))).thenNoReply();
        }
        if (settings.tolerance().onCheckpointFailure(checkpointFailures) == TolerancePolicy.CheckpointDecision.PAUSE_RUN
                && (state instanceof Running || state instanceof WaitingForWorkers)) {
            return persist(state, List.of(new RunPaused(checkpointFailures + " checkpoints failed in a row (last: "
                    + what + "); fix the checkpoint store, then `clmr control resume`", clock.instant())))
                    .thenNoReply();
        }
        return Effect().none().thenNoReply();
    }

    // ------------------------------------------------------------------ operators

    private ReplyEffect<CoordinatorEvent, CoordinatorState> onStart(CoordinatorState state, StartRun c) {
        if (!(state instanceof Idle || state instanceof Completed)) {
            return Effect().reply(c.replyTo(), new OperatorReply(false, "run " + state.run().orElseThrow().runId()
                    + " is " + state.phase() + ": stop it before starting another"));
        }
        if (c.tracks() < c.spec().globalBatch()) {
            return Effect().reply(c.replyTo(), new OperatorReply(false, "the dataset has " + c.tracks()
                    + " tracks, fewer than clmr.run.global-batch = " + c.spec().globalBatch()
                    + ": use a larger dataset or a smaller batch"));
        }
        if (c.runId().isBlank()) {
            return Effect().reply(c.replyTo(), new OperatorReply(false, "a run needs a non-empty id"));
        }
        long spe = c.tracks() / c.spec().globalBatch();
        return persist(state, List.of(new RunStarted(c.runId(), c.spec(), c.datasetHash(), c.tracks(), spe,
                clock.instant())))
                .thenReply(c.replyTo(), s -> new OperatorReply(true, "run " + c.runId() + " started: "
                        + c.spec().epochs() + " epochs of " + spe + " steps; waiting for workers"));
    }

    private ReplyEffect<CoordinatorEvent, CoordinatorState> onPause(CoordinatorState state, PauseRun c) {
        if (!(state instanceof Running || state instanceof WaitingForWorkers)) {
            return Effect().reply(c.replyTo(), new OperatorReply(false, "cannot pause in phase " + state.phase()));
        }
        return persist(state, List.of(new RunPaused("paused by an operator", clock.instant())))
                .thenReply(c.replyTo(), s -> new OperatorReply(true, "paused; members stop at the next plan boundary"));
    }

    private ReplyEffect<CoordinatorEvent, CoordinatorState> onResume(CoordinatorState state, ResumeRun c) {
        if (!(state instanceof Paused paused)) {
            return Effect().reply(c.replyTo(), new OperatorReply(false, "cannot resume in phase " + state.phase()));
        }
        checkpointFailures = 0;
        Instant now = clock.instant();
        List<CoordinatorEvent> events = new ArrayList<>();
        events.add(new RunResumed(now));
        events.addAll(nextGeneration(paused.data(), List.of(), List.of(), "resumed by an operator", now));
        return persist(state, events).thenReply(c.replyTo(), s -> new OperatorReply(true, "resumed: " + s.reason()));
    }

    private ReplyEffect<CoordinatorEvent, CoordinatorState> onStop(CoordinatorState state, StopRun c) {
        if (state instanceof Idle || state instanceof Completed) {
            return Effect().reply(c.replyTo(), new OperatorReply(false, "no active run to stop (phase "
                    + state.phase() + ")"));
        }
        return persist(state, List.of(new RunCompleted(StopReason.STOPPED, clock.instant())))
                .thenReply(c.replyTo(), s -> new OperatorReply(true, "run " + s.run().orElseThrow().runId()
                        + " stopped"));
    }

    // ------------------------------------------------------------------ the transition point

    private EffectBuilder<CoordinatorEvent, CoordinatorState> persist(CoordinatorState before,
                                                                     List<CoordinatorEvent> events) {
        if (events.isEmpty()) {
            return Effect().none();
        }
        return Effect().persist(events).thenRun(after -> afterPersist(before, after, events));
    }

    /** Every side effect of persisted events: watches, tells, metrics, and the transition log line. */
    private void afterPersist(CoordinatorState before, CoordinatorState after, List<CoordinatorEvent> events) {
        metrics.eventsPersisted(events.size());
        boolean newGeneration = false;
        for (CoordinatorEvent e : events) {
            if (e instanceof RunStarted) {
                progress.clear();
                draining.clear();
            } else if (e instanceof WorkerJoined j) {
                watch(j.worker());
            } else if (e instanceof WorkerRemoved r) {
                onRemoved(before, r);
            } else if (e instanceof GenerationStarted) {
                newGeneration = true;
            } else if (e instanceof CheckpointRecorded cc) {
                onCommitted(after, cc);
            } else if (e instanceof EpochCompleted ec) {
                log.info("epoch {} completed at step {}", ec.epoch(), ec.step());
            } else if (e instanceof RunCompleted rc) {
                after.run().ifPresent(run -> {
                    Stop stop = new Stop(run.runId(), rc.reason());
                    run.members().forEach(w -> w.ref().tell(stop));
                    run.pending().forEach(w -> w.ref().tell(stop));
                });
            }
        }
        if (before.phase() != after.phase() || before.generation() != after.generation()) {
            log.info("{} -> {} ({}, generation {})", before.phase(), after.phase(), after.reason(), after.generation());
        }
        metrics.state(after);
        if (newGeneration && after instanceof Running running) {
            announce(running.data());
        }
    }

    private void onRemoved(CoordinatorState before, WorkerRemoved r) {
        progress.forget(r.workerId());
        draining.remove(r.workerId());
        metrics.removed(r.reason());
        log.info("worker {} removed ({})", r.workerId(), r.reason());
        if (r.reason() == FailureReason.PEER_TIMEOUT || r.reason() == FailureReason.RESTARTED) {
            before.run().flatMap(run -> run.member(r.workerId()).or(() -> run.joiner(r.workerId())))
                    .ifPresent(w -> w.ref().tell(new Stop(before.run().get().runId(), StopReason.REMOVED)));
        } else if (r.reason() == FailureReason.DRAINED) {
            before.run().flatMap(run -> run.member(r.workerId()).or(() -> run.joiner(r.workerId())))
                    .ifPresent(w -> w.ref().tell(new Stop(before.run().get().runId(), StopReason.DRAINED)));
        }
    }

    private void onCommitted(CoordinatorState after, CheckpointRecorded cc) {
        nextCheckpointId = Math.max(nextCheckpointId, cc.checkpointId() + 1);
        log.info("checkpoint {} of step {} committed ({} bytes, sha256 {})", cc.checkpointId(), cc.record().step(),
                cc.record().sizeBytes(), cc.record().sha256());
        after.run().ifPresent(run -> {
            var msg = new org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointCommitted(run.generation(),
                    cc.checkpointId(), cc.record());
            run.members().forEach(w -> w.ref().tell(msg));
            RetentionPolicy policy = RetentionPolicy.of(run.spec().checkpoint());
            String runId = run.runId();
            CompletableFuture.runAsync(() -> store.prune(runId, policy), blocking).whenComplete((ok, err) -> {
                if (err != null) {
                    log.warn("pruning checkpoints of run {} failed: {}", runId, rootMessage(err));
                }
            });
        });
    }

    /** Tells every member the new generation, asks for a due checkpoint, and sends the first plan. */
    private void announce(RunData run) {
        log.info("generation {}: {} from {}", run.generation(),
                run.members().stream().map(w -> w.workerId() + "=" + w.share()).toList(), run.resume().describe());
        Reconfigure reconfigure = reconfigure(run);
        for (WorkerInfo w : run.members()) {
            w.ref().tell(reconfigure);
        }
        continueAt(run, run.resume().step());
    }

    private static Reconfigure reconfigure(RunData run) {
        List<Member> members = new ArrayList<>();
        for (int i = 0; i < run.members().size(); i++) {
            WorkerInfo w = run.members().get(i);
            members.add(new Member(i, w.workerId(), w.aeronEndpoint(), w.share()));
        }
        return new Reconfigure(run.runId(), run.spec(), run.generation(), members, run.resume(), run.stepsPerEpoch());
    }

    private void watch(WorkerInfo w) {
        if (watched.add(w.ref())) {
            context.watchWith(w.ref(), new WorkerTerminated(w.workerId(), w.ref()));
        }
    }

    private void onRecovered(CoordinatorState state) {
        membersChecked = state instanceof Completed || state.run().isEmpty();
        double seconds = (System.nanoTime() - createdNanos) / 1e9;
        metrics.recovered(seconds);
        metrics.state(state);
        state.run().ifPresent(run -> {
            nextCheckpointId = Math.max(nextCheckpointId, run.lastCheckpointId() + 1);
            if (!(state instanceof Completed)) {
                run.members().stream().filter(this::inCluster).forEach(this::watch);
                run.pending().stream().filter(this::inCluster).forEach(this::watch);
                context.getSelf().tell(CheckMembers.INSTANCE);
            }
            if (state instanceof WaitingForWorkers && !run.pending().isEmpty()) {
                context.getSelf().tell(FormGeneration.INSTANCE);
            }
        });
        log.info("coordinator recovered in {} ms: {} ({}, generation {})", Math.round(seconds * 1000), state.phase(),
                state.reason(), state.generation());
    }

    // ------------------------------------------------------------------ draining

    /**
     * A worker is to leave without the run losing a step. A member of a running run leaves at the next plan
     * boundary ({@link #drainAt}); a joiner, or a member of a run that is not running, leaves at once.
     */
    private ReplyEffect<CoordinatorEvent, CoordinatorState> onDrain(CoordinatorState state, DrainWorker c) {
        Optional<RunData> maybeRun = state.run();
        if (maybeRun.isEmpty() || state instanceof Completed) {
            return Effect().reply(c.replyTo(), new OperatorReply(false, "no active run to drain worker " + c.workerId()
                    + " from (phase " + state.phase() + ")"));
        }
        RunData run = maybeRun.get();
        boolean member = run.member(c.workerId()).isPresent();
        if (!member && run.joiner(c.workerId()).isEmpty()) {
            return Effect().reply(c.replyTo(), new OperatorReply(false, "worker " + c.workerId() + " is not in run "
                    + run.runId() + " (members " + run.members().stream().map(WorkerInfo::workerId).toList()
                    + ", joining " + run.pending().stream().map(WorkerInfo::workerId).toList()
                    + "): take the id from `clmr status`"));
        }
        if (!member || !(state instanceof Running)) {
            metrics.classified("drain", Classification.ACCEPTED);
            return persist(state, List.of(new WorkerRemoved(c.workerId(), FailureReason.DRAINED, clock.instant())))
                    .thenReply(c.replyTo(), s -> new OperatorReply(true, "worker " + c.workerId() + " drained at once"
                            + " (it was not training a plan: " + (member ? "run " + state.phase() : "joining") + ")"));
        }
        if (draining.contains(c.workerId())) {
            metrics.classified("drain", Classification.DUPLICATE);
            return Effect().reply(c.replyTo(), new OperatorReply(true, "worker " + c.workerId()
                    + " is draining: it leaves at the next plan boundary"));
        }
        long staying = run.members().stream()
                .filter(w -> !draining.contains(w.workerId()) && !w.workerId().equals(c.workerId())).count();
        if (staying == 0) {
            return Effect().reply(c.replyTo(), new OperatorReply(false, "worker " + c.workerId() + " is the last"
                    + " member of run " + run.runId() + ": draining it would send the run back to its last checkpoint;"
                    + " start another worker first, or pause the run (`clmr control pause`)"));
        }
        metrics.classified("drain", Classification.ACCEPTED);
        draining.add(c.workerId());
        long boundary = plannedGeneration == run.generation()
                ? RunPlanner.nextBoundary(run, plannedFrom, settings.planSteps()) : run.resume().step();
        log.info("draining {}: it leaves at the plan boundary of step {}", c.workerId(), boundary);
        return Effect().reply(c.replyTo(), new OperatorReply(true, "worker " + c.workerId()
                + " leaves at the next plan boundary (step " + boundary + ")"));
    }

    /**
     * The members hold {@code step}, a plan boundary, and some are draining: the next generation is the
     * others (and any joiners) from this step, broadcast by a member that reported it. A report from a
     * draining member is not enough, as only a staying member may broadcast; the others repeat their report
     * while they wait, so one comes.
     */
    private ReplyEffect<CoordinatorEvent, CoordinatorState> drainAt(Running state, RunData run, long step,
                                                                   String reporter, List<CoordinatorEvent> events,
                                                                   Instant now) {
        if (draining.contains(reporter)) {
            return Effect().none().thenNoReply();
        }
        List<String> leaving = new ArrayList<>();
        List<WorkerInfo> candidates = new ArrayList<>();
        for (WorkerInfo w : run.members()) {
            if (draining.contains(w.workerId())) {
                leaving.add(w.workerId());
                events.add(new WorkerRemoved(w.workerId(), FailureReason.DRAINED, now));
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
        events.add(new GenerationStarted(run.generation() + 1, members,
                ResumePoint.fromRank(step, RunPlanner.epochOf(run, step), rank),
                "drained at step " + step + ": " + leaving, now));
        return persist(state, events).thenNoReply();
    }
}

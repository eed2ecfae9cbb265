package org.clmr.coordinator;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.TimerScheduler;
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
import org.clmr.coordinator.CoordinatorMessages.CheckMembers;
import org.clmr.coordinator.CoordinatorMessages.CheckpointVerified;
import org.clmr.coordinator.CoordinatorMessages.DecidePeerTimeouts;
import org.clmr.coordinator.CoordinatorMessages.FormGeneration;
import org.clmr.coordinator.CoordinatorMessages.RetryJournal;
import org.clmr.coordinator.CoordinatorMessages.StartLookedUp;
import org.clmr.coordinator.CoordinatorMessages.WorkerTerminated;
import org.clmr.coordinator.checkpoint.CheckpointStoreWork;
import org.clmr.coordinator.desk.Decision;
import org.clmr.coordinator.desk.Decision.Tell;
import org.clmr.coordinator.journal.CoordinatorEvent;
import org.clmr.coordinator.journal.CoordinatorEvent.CheckpointRecorded;
import org.clmr.coordinator.journal.CoordinatorEvent.GenerationStarted;
import org.clmr.coordinator.journal.CoordinatorEvent.WorkerJoined;
import org.clmr.coordinator.journal.CoordinatorEvent.WorkerRemoved;
import org.clmr.coordinator.journal.CoordinatorState;
import org.clmr.coordinator.journal.CoordinatorState.Completed;
import org.clmr.coordinator.journal.CoordinatorState.Idle;
import org.clmr.coordinator.journal.CoordinatorState.Paused;
import org.clmr.coordinator.journal.CoordinatorState.Running;
import org.clmr.coordinator.journal.CoordinatorState.WaitingForWorkers;
import org.clmr.coordinator.journal.WorkerInfo;
import org.clmr.coordinator.lifecycle.RunLifecycle;
import org.clmr.coordinator.lifecycle.StoredRun;
import org.clmr.coordinator.plan.Boundaries;
import org.clmr.coordinator.steplog.ProgressLog;
import org.clmr.protocol.checkpoint.CheckpointStore;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointFailed;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointWritten;
import org.clmr.protocol.cluster.CoordinatorProtocol.DrainWorker;
import org.clmr.protocol.cluster.CoordinatorProtocol.GetStatus;
import org.clmr.protocol.cluster.CoordinatorProtocol.Leave;
import org.clmr.protocol.cluster.CoordinatorProtocol.OperatorReply;
import org.clmr.protocol.cluster.CoordinatorProtocol.PauseRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.PeerTimeout;
import org.clmr.protocol.cluster.CoordinatorProtocol.Progress;
import org.clmr.protocol.cluster.CoordinatorProtocol.Register;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumeRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.StartRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.StopRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToCoordinator;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToWorker;
import org.slf4j.Logger;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import static org.clmr.coordinator.checkpoint.CheckpointStoreWork.rootMessage;

/**
 * The run's coordinator: an event-sourced behavior (run as a Cluster Singleton by {@link CoordinatorNode}) that
 * owns the run spec, membership generations, shares, committed progress and checkpoints. This is its shell: the
 * command handler, grouped by phase, hands each command to a desk ({@code membership}, {@code plan},
 * {@code checkpoint}, {@code lifecycle}, {@link JournalPause}; one incarnation's desks are its {@link Desks}) that
 * returns a {@link Decision}; the shell persists its events and only then runs every side effect
 * ({@link #afterPersist}, {@link #perform}). Operator commands and recovery are handled here.
 *
 * <p>Events are few (see {@link CoordinatorEvent}); per-step progress and what the desks hold live in memory and
 * may be lost with an incarnation: workers repeat their newest report while they wait at a plan boundary, so a
 * coordinator that moved to another node picks up where the run is. Runs on the actor's thread; checkpoints are
 * read back on Akka's blocking dispatcher, and the result comes back as a message.
 */
public final class Coordinator
        extends EventSourcedBehaviorWithEnforcedReplies<ToCoordinator, CoordinatorEvent, CoordinatorState> {

    private final ActorContext<ToCoordinator> context;
    private final TimerScheduler<ToCoordinator> timers;
    private final CoordinatorSettings settings;
    private final CheckpointStoreWork storeWork;
    private final CoordinatorMetrics metrics;
    private final Clock clock;
    private final JournalHealth journal;
    private final Logger log;
    private final long createdNanos = System.nanoTime();
    /** Worker actors watched by this incarnation. */
    private final Set<ActorRef<ToWorker>> watched = new HashSet<>();
    /** The desks: what they hold is in memory only, owned by this incarnation and lost with it. */
    private Desks desks;
    /** Events handed to the journal and not yet persisted: left over at a recovery, they failed. */
    private List<CoordinatorEvent> inFlight = List.of();
    /** The per-step log: shared by this node's incarnations, not a desk (it decides nothing). */
    private final ProgressLog stepLog;

    private Coordinator(ActorContext<ToCoordinator> context, TimerScheduler<ToCoordinator> timers,
                        CoordinatorSettings settings, CheckpointStore store, CoordinatorMetrics metrics, Clock clock,
                        ProgressLog stepLog, JournalHealth journal) {
        // a failed persist restarts the behavior in place (this object stays): it recovers and finds inFlight
        super(PersistenceId.ofUniqueId(settings.persistenceId()),
                SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(10), 0.2));
        this.stepLog = stepLog;
        this.context = context;
        this.timers = timers;
        this.settings = settings;
        this.metrics = metrics;
        this.clock = clock;
        this.journal = journal;
        this.log = context.getLog();
        this.storeWork = new CheckpointStoreWork(store,
                context.getSystem().dispatchers().lookup(DispatcherSelector.blocking()));
        newIncarnation();
    }

    /**
     * Fresh desks: what they hold lives in memory only and is rebuilt from the journal and the workers' repeated
     * reports. At the start, and when a failed persist left them holding what was never written.
     */
    private void newIncarnation() {
        watched.clear();
        desks = new Desks(settings, journal, clock, ref -> WorkerNodes.inCluster(context.getSystem(), ref));
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
        return create(settings, store, metrics, clock, ProgressLog.none(), new JournalHealth());
    }

    /** The coordinator's behavior, writing the members' progress to a per-step log (see {@link ProgressLog}). */
    public static Behavior<ToCoordinator> create(CoordinatorSettings settings, CheckpointStore store,
                                                 CoordinatorMetrics metrics, Clock clock, ProgressLog stepLog) {
        return create(settings, store, metrics, clock, stepLog, new JournalHealth());
    }

    /** The coordinator's behavior sharing {@code journal}, as below, and writing no per-step log. */
    public static Behavior<ToCoordinator> create(CoordinatorSettings settings, CheckpointStore store,
                                                 CoordinatorMetrics metrics, Clock clock, JournalHealth journal) {
        return create(settings, store, metrics, clock, ProgressLog.none(), journal);
    }

    /**
     * The coordinator's behavior, as an incarnation that shares {@code journal} with the ones before and after
     * it (the node keeps it): after a failed persist the run is paused until the journal can be written.
     *
     * @param stepLog where every step's row goes (see {@link ProgressLog})
     */
    public static Behavior<ToCoordinator> create(CoordinatorSettings settings, CheckpointStore store,
                                                 CoordinatorMetrics metrics, Clock clock, ProgressLog stepLog,
                                                 JournalHealth journal) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
                new Coordinator(ctx, timers, settings, store, metrics, clock, stepLog, journal)));
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
                .onSignal(RecoveryFailed.class, (state, signal) -> {
                    journal.failed("reading it back failed: " + rootMessage(signal.getFailure()), clock.instant());
                    log.error("coordinator recovery from the journal failed: {}", signal.getFailure().toString());
                })
                .build();
    }

    /** Commands by phase; a command a phase does not name falls through to the handlers of every phase. */
    @Override
    public CommandHandlerWithReply<ToCoordinator, CoordinatorEvent, CoordinatorState> commandHandler() {
        var b = newCommandHandlerWithReplyBuilder();
        b.forAnyState().onCommand(c -> journal.pausing().isPresent(), this::whileJournalFails);
        b.forStateType(Idle.class)
                .onCommand(StartRun.class, this::onStart)
                .onCommand(StartLookedUp.class, this::onStartLookedUp)
                .onCommand(StopRun.class, (s, c) -> refuse(c.replyTo(), "no active run to stop (phase IDLE)"));
        b.forStateType(WaitingForWorkers.class)
                .onCommand(FormGeneration.class, (s, c) -> decided(s, desks.admission.formFirstGeneration(s, now())))
                .onCommand(PauseRun.class, (s, c) -> decided(s, desks.lifecycle.pause(c, now())));
        b.forStateType(Running.class)
                .onCommand(Progress.class, this::onProgress)
                .onCommand(PeerTimeout.class, this::onPeerTimeout)
                .onCommand(PauseRun.class, (s, c) -> decided(s, desks.lifecycle.pause(c, now())));
        b.forStateType(Paused.class)
                .onCommand(ResumeRun.class, (s, c) -> {
                    desks.checkpoints.resumed();
                    return decided(s, desks.lifecycle.resume(s, c, now()));
                });
        b.forStateType(Completed.class)
                .onCommand(StartRun.class, this::onStart)
                .onCommand(StartLookedUp.class, this::onStartLookedUp)
                .onCommand(StopRun.class, (s, c) -> refuse(c.replyTo(), "no active run to stop (phase COMPLETED)"));
        b.forAnyState()
                .onCommand(Register.class, (s, c) -> desks.admission.isOpen()
                        ? decided(s, desks.admission.register(s, c, now())) : Effect().stash())
                .onCommand(Progress.class, (s, p) -> decided(s, heard(s, p).decision()))
                .onCommand(PeerTimeout.class, (s, c) -> decided(s, desks.jury.hear(s, c)))
                .onCommand(DecidePeerTimeouts.class, (s, c) -> decided(s, desks.jury.close(s, c.generation(), now())))
                .onCommand(Leave.class, (s, c) -> decided(s, desks.admission.leave(s, c, now())))
                .onCommand(WorkerTerminated.class, (s, c) -> {
                    watched.remove(c.ref());
                    return decided(s, desks.admission.terminated(s, c.workerId(), c.ref(), now()));
                })
                .onCommand(CheckMembers.class, (s, c) ->
                        decided(s, desks.admission.checkMembers(s, this::inCluster, now())).thenUnstashAll())
                .onCommand(CheckpointWritten.class, this::onCheckpointWritten)
                .onCommand(CheckpointVerified.class, (s, c) ->
                        decided(s, desks.checkpoints.verified(s, c.checkpointId(), c.record(), c.failure(), now())))
                .onCommand(CheckpointFailed.class, (s, c) -> decided(s, desks.checkpoints.failed(s, c, now())))
                .onCommand(DrainWorker.class, (s, c) -> decided(s, desks.drain(s, c, now())))
                .onCommand(StartRun.class, (s, c) -> decided(s, RunLifecycle.busy(s, c)))
                .onCommand(StartLookedUp.class, (s, c) -> decided(s, RunLifecycle.busy(s, c.start())))
                .onCommand(StopRun.class, (s, c) -> decided(s, desks.lifecycle.stop(s, c, now())))
                .onCommand(PauseRun.class, (s, c) -> refuse(c.replyTo(), "cannot pause in phase " + s.phase()))
                .onCommand(ResumeRun.class, (s, c) -> refuse(c.replyTo(), "cannot resume in phase " + s.phase()))
                .onCommand(FormGeneration.class, (s, c) -> Effect().none().thenNoReply())
                .onCommand(GetStatus.class, (s, c) ->
                        Effect().reply(c.replyTo(), StatusView.of(s, desks.progress, clock)));
        return b.build();
    }

    private Instant now() {
        return clock.instant();
    }

    // ------------------------------------------------------------------ commands a desk decides

    /** A progress report goes to the per-step log (beside the journal, like the metrics) and to the plan desk. */
    private Boundaries.Heard heard(CoordinatorState state, Progress p) {
        stepLog.hear(state, p, now());
        return desks.boundaries.hear(state, p);
    }

    private ReplyEffect<CoordinatorEvent, CoordinatorState> onProgress(Running state, Progress p) {
        Boundaries.Heard heard = heard(state, p);
        if (heard.decision().accepted()) {
            metrics.recovery().stepReported(p.step(), state.data().resume().step());
        }
        return decided(state, desks.heard(state.data(), heard, p.step(), p.workerId(), now()));
    }

    private ReplyEffect<CoordinatorEvent, CoordinatorState> onPeerTimeout(Running state, PeerTimeout c) {
        Decision heard = desks.jury.hear(state, c);
        if (!heard.accepted()) {
            return decided(state, heard);
        }
        if (settings.peerTimeoutWindow().isZero()) {
            return decided(state, heard.and(desks.jury.decide(state, c.step(), now())));
        }
        if (!timers.isTimerActive(DecidePeerTimeouts.class)) {
            timers.startSingleTimer(DecidePeerTimeouts.class, new DecidePeerTimeouts(state.data().generation()),
                    settings.peerTimeoutWindow());
        }
        return decided(state, heard);
    }

    /** Rank 0 reports a checkpoint written: when the checkpoint desk accepts it, it is read back off this thread. */
    private ReplyEffect<CoordinatorEvent, CoordinatorState> onCheckpointWritten(CoordinatorState state,
                                                                               CheckpointWritten c) {
        Decision d = desks.checkpoints.written(state, c);
        if (d.accepted()) {
            context.pipeToSelf(storeWork.verify(state.run().orElseThrow(), c.record()), (ok, err) ->
                    new CheckpointVerified(c.checkpointId(), c.record(), err == null ? null : rootMessage(err)));
        }
        return decided(state, d);
    }

    // ------------------------------------------------------------------ a journal that cannot be written

    /** While the journal cannot be written, a desk decides ({@link JournalPause}); a retry is a new incarnation. */
    private ReplyEffect<CoordinatorEvent, CoordinatorState> whileJournalFails(CoordinatorState state, ToCoordinator c) {
        JournalPause.Heard heard = JournalPause.hear(journal.pausing().orElseThrow(), c,
                () -> StatusView.of(state, desks.progress, clock));
        if (heard.retry()) {
            journal.retry();
            newIncarnation();
            startIncarnation(state);
        }
        return decided(state, heard.decision());
    }

    // ------------------------------------------------------------------ operators

    /** A start is checked, then its run id is looked up in the store off this thread ({@link StoredRun}). */
    private ReplyEffect<CoordinatorEvent, CoordinatorState> onStart(CoordinatorState state, StartRun c) {
        Optional<Decision> refused = desks.lifecycle.check(c);
        if (refused.isEmpty()) {
            context.pipeToSelf(storeWork.lookUp(c.runId(), c.existing()), (found, err) ->
                    new StartLookedUp(c, found, err == null ? null : rootMessage(err)));
        }
        return decided(state, refused.orElse(Decision.none()));
    }

    private ReplyEffect<CoordinatorEvent, CoordinatorState> onStartLookedUp(CoordinatorState state, StartLookedUp c) {
        return decided(state, desks.lifecycle.lookedUp(state, c.start(), c.found(), c.failure(), now()));
    }

    private ReplyEffect<CoordinatorEvent, CoordinatorState> refuse(ActorRef<OperatorReply> replyTo, String why) {
        return Effect().reply(replyTo, new OperatorReply(false, why));
    }

    // ------------------------------------------------------------------ the one place events are persisted

    /** Carries out a desk's decision: persists its events, runs its side effects, replies if it says so. */
    private ReplyEffect<CoordinatorEvent, CoordinatorState> decided(CoordinatorState state, Decision d) {
        EffectBuilder<CoordinatorEvent, CoordinatorState> effect = carriedOut(state, d);
        return d.reply() == null ? effect.thenNoReply() : replied(effect, d.reply());
    }

    private static <M> ReplyEffect<CoordinatorEvent, CoordinatorState> replied(
            EffectBuilder<CoordinatorEvent, CoordinatorState> effect, Tell<M> reply) {
        return effect.thenReply(reply.to(), s -> reply.message());
    }

    private EffectBuilder<CoordinatorEvent, CoordinatorState> carriedOut(CoordinatorState state, Decision d) {
        return persist(state, d.events()).thenRun(after -> perform(d));
    }

    /** The one place events are persisted; their own side effects run once they are, in {@link #afterPersist}. */
    private EffectBuilder<CoordinatorEvent, CoordinatorState> persist(CoordinatorState before,
                                                                     List<CoordinatorEvent> events) {
        if (events.isEmpty()) {
            return Effect().none();
        }
        inFlight = events;
        return Effect().persist(events).thenRun(after -> afterPersist(before, after, events));
    }

    /** Counts, logs and sends what a decision says, in that order. */
    private void perform(Decision d) {
        d.counts().forEach(metrics::count);
        d.notes().forEach(n -> n.logTo(log));
        d.tells().forEach(Tell::send);
    }

    /** Every side effect of persisted events: watches, the formation timer, tells, metrics, the transition log line. */
    private void afterPersist(CoordinatorState before, CoordinatorState after, List<CoordinatorEvent> events) {
        inFlight = List.of();
        journal.written();
        metrics.journal(journal);
        metrics.eventsPersisted(events.size());
        for (CoordinatorEvent e : events) {
            perform(sideEffects(before, after, e));
        }
        if (before.phase() != after.phase() || before.generation() != after.generation()) {
            log.info("{} -> {} ({}, generation {})", before.phase(), after.phase(), after.reason(), after.generation());
        }
        metrics.state(after);
        if (after instanceof Running running && events.stream().anyMatch(GenerationStarted.class::isInstance)) {
            perform(desks.started(running.data()));
        }
    }

    /** What the shell does for a persisted event (watches, timers, metrics, pruning), then what the desks do. */
    private Decision sideEffects(CoordinatorState before, CoordinatorState after, CoordinatorEvent e) {
        if (e instanceof WorkerJoined j) {
            watch(j.worker());
            if (after instanceof WaitingForWorkers && !settings.formationDelay().isZero()
                    && !timers.isTimerActive(FormGeneration.INSTANCE)) {
                timers.startSingleTimer(FormGeneration.INSTANCE, FormGeneration.INSTANCE, settings.formationDelay());
            }
        } else if (e instanceof WorkerRemoved r) {
            metrics.removed(r.reason(), after);
        } else if (e instanceof CheckpointRecorded && after.run().isPresent()) {
            storeWork.prune(after.run().get());
        }
        return desks.persisted(before, after, e);
    }

    // ------------------------------------------------------------------ recovery and watching

    private void onRecovered(CoordinatorState state) {
        if (!inFlight.isEmpty()) {
            journal.failed("persisting " + inFlight.stream().map(e -> e.getClass().getSimpleName()).toList()
                    + " failed", clock.instant());
            inFlight = List.of();
            newIncarnation();
        }
        double seconds = (System.nanoTime() - createdNanos) / 1e9;
        metrics.recovered(seconds, state, clock.instant());
        log.info("coordinator recovered in {} ms: {} ({}, generation {})", Math.round(seconds * 1000), state.phase(),
                state.reason(), state.generation());
        startIncarnation(state);
    }

    /** Metrics, the journal's retry, checkpoint ids, watches and waiting registrations of a new incarnation. */
    private void startIncarnation(CoordinatorState state) {
        metrics.state(state);
        metrics.journal(journal);
        journal.pausing().ifPresent(f -> {
            timers.startSingleTimer(RetryJournal.INSTANCE, RetryJournal.INSTANCE, f.retryIn());
            log.error(f.why() + "; members wait at their plan boundaries; retrying in " + f.retryIn().toSeconds() + " s");
        });
        state.run().ifPresent(desks.checkpoints::recovered);
        Map<Boolean, List<WorkerInfo>> inThisCluster = desks.admission.recovered(state).stream()
                .collect(Collectors.partitioningBy(this::inCluster));
        inThisCluster.get(true).forEach(this::watch);
        WorkerNodes.tellRestarted(context.getSystem(), inThisCluster.get(false));
        if (!desks.admission.isOpen()) {
            context.getSelf().tell(CheckMembers.INSTANCE);
        }
        if (state instanceof WaitingForWorkers w && !w.data().pending().isEmpty()) {
            context.getSelf().tell(FormGeneration.INSTANCE);
        }
    }

    private void watch(WorkerInfo w) {
        if (watched.add(w.ref())) {
            context.watchWith(w.ref(), new WorkerTerminated(w.workerId(), w.ref()));
        }
    }

    private boolean inCluster(WorkerInfo w) {
        return WorkerNodes.inCluster(context.getSystem(), w.ref());
    }
}

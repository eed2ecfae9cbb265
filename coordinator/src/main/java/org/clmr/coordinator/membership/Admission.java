package org.clmr.coordinator.membership;

import akka.actor.typed.ActorRef;
import org.clmr.coordinator.desk.Classification;
import org.clmr.coordinator.desk.Decision;
import org.clmr.coordinator.journal.CoordinatorEvent.WorkerJoined;
import org.clmr.coordinator.journal.CoordinatorEvent.WorkerRemoved;
import org.clmr.coordinator.journal.CoordinatorState;
import org.clmr.coordinator.journal.CoordinatorState.Completed;
import org.clmr.coordinator.journal.CoordinatorState.Idle;
import org.clmr.coordinator.journal.CoordinatorState.Running;
import org.clmr.coordinator.journal.CoordinatorState.WaitingForWorkers;
import org.clmr.coordinator.journal.FailureReason;
import org.clmr.coordinator.journal.RunData;
import org.clmr.coordinator.journal.WorkerInfo;
import org.clmr.coordinator.plan.RunPlanner;
import org.clmr.protocol.BuildInfo;
import org.clmr.protocol.cluster.CoordinatorProtocol.Leave;
import org.clmr.protocol.cluster.CoordinatorProtocol.Member;
import org.clmr.protocol.cluster.CoordinatorProtocol.Reconfigure;
import org.clmr.protocol.cluster.CoordinatorProtocol.RefusalReason;
import org.clmr.protocol.cluster.CoordinatorProtocol.Register;
import org.clmr.protocol.cluster.CoordinatorProtocol.RegisterRefused;
import org.clmr.protocol.cluster.CoordinatorProtocol.Registered;
import org.clmr.protocol.cluster.CoordinatorProtocol.Stop;
import org.clmr.protocol.cluster.CoordinatorProtocol.StopReason;
import org.clmr.protocol.cluster.CoordinatorProtocol.ToWorker;
import org.clmr.protocol.wire.FrameKey;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * The admission desk: where membership is decided. Registrations are refused (with one line saying why and how to
 * fix it), recognised as duplicates, or admitted as joiners; workers that left, terminated or were lost are
 * removed; and the next generation is formed from the survivors and joiners. The peer-timeout jury and draining
 * remove workers through it too.
 *
 * <p>A worker id belongs to the cluster node that registered it: a registration of a known id from another node is
 * refused ({@link RefusalReason#WORKER_ID_TAKEN}) while that node is still a member, and leaves the registered worker
 * as it is; once the node has left, the id is free again. (Akka lets one node hold an address at a time: a new
 * incarnation on the same host and port replaces the old one, so the address stands for the node.) A refusal never
 * carries what the run keeps to itself: the run's dataset hash is not in it.
 *
 * <p>In memory only, owned by the coordinator's shell: whether registrations are open, and the workers a recovered
 * run had (when all of them are back, its generation forms without the formation delay). From recovery until the
 * members recorded by an earlier incarnation were checked against the cluster they wait (the shell stashes
 * them), so that a returning worker is not matched with its stale entry. And the current generation's frame
 * key, drawn when the generation is first announced and sent again unchanged with it (never journaled). Runs on
 * the coordinator actor's thread.
 */
public final class Admission {
    private final RunPlanner planner;
    private final boolean formsAtOnce;
    private final Predicate<ActorRef<?>> nodeIsMember;
    private boolean open;
    /** The run and generation {@link #frameKey} belongs to. */
    private String keyedRun;
    private long keyedGeneration = -1;
    private FrameKey frameKey;
    /** The workers a recovered run had; once all have registered again, its next generation forms at once. */
    private Set<String> awaited = Set.of();

    /**
     * @param planner      forms new generations
     * @param formsAtOnce  whether a waiting run's first generation forms at the first registration (no formation
     *                     delay); otherwise the shell forms it when the delay is over
     * @param nodeIsMember whether the cluster node of an actor is still a member of the cluster
     */
    public Admission(RunPlanner planner, boolean formsAtOnce, Predicate<ActorRef<?>> nodeIsMember) {
        this.planner = planner;
        this.formsAtOnce = formsAtOnce;
        this.nodeIsMember = nodeIsMember;
    }

    /**
     * The coordinator recovered {@code state}: the workers an earlier incarnation recorded in a run that is not
     * over. Registrations wait until they are checked ({@link #checkMembers}), if there is such a run.
     */
    public List<WorkerInfo> recovered(CoordinatorState state) {
        open = state instanceof Completed || state.run().isEmpty();
        if (open) {
            return List.of();
        }
        List<WorkerInfo> recorded = new ArrayList<>(state.run().get().members());
        recorded.addAll(state.run().get().pending());
        awaited = recorded.stream().map(WorkerInfo::workerId).collect(Collectors.toSet());
        return recorded;
    }

    /** Whether registrations are decided now (else they wait). */
    public boolean isOpen() {
        return open;
    }

    /**
     * A worker registers: refused, a duplicate of its current registration (answered the same), or admitted as a
     * joiner of the next generation. A worker that registers again from a new incarnation replaces its old self;
     * while the run waits for workers, the first generation forms at once when there is no formation delay.
     */
    public Decision register(CoordinatorState state, Register c, Instant now) {
        Optional<Decision> refusal = refusal(state, c);
        if (refusal.isPresent()) {
            return refusal.get();
        }
        RunData run = state.run().orElseThrow();
        Optional<WorkerInfo> known = run.memberOrJoiner(c.workerId());
        if (known.isPresent() && heldByAnotherNode(known.get(), c)) {
            return refuse(c, RefusalReason.WORKER_ID_TAKEN, "worker id " + c.workerId() + " is registered from"
                    + " another cluster node, which is still a member; a worker restarted under the same id is"
                    + " admitted once its old node has left the cluster");
        }
        if (known.isPresent() && known.get().ref().equals(c.replyTo())) {
            Decision d = Decision.none().classified("register", Classification.DUPLICATE);
            if (state instanceof Running && run.member(c.workerId()).isPresent()) {
                d = d.tell(c.replyTo(), reconfigure(run));  // with the generation's key, as first sent
            }
            return d.reply(c.replyTo(), new Registered(c.workerId(), run.runId(), run.spec(), run.generation()));
        }
        Decision d = Decision.none().classified("register", Classification.ACCEPTED);
        if (known.isPresent()) {
            d = d.and(Decision.persist(new WorkerRemoved(c.workerId(), FailureReason.RESTARTED, now)));
        }
        d = d.and(Decision.persist(new WorkerJoined(WorkerInfo.of(c), now)));
        if (state instanceof Running && known.isPresent() && run.member(c.workerId()).isPresent()) {
            d = d.and(nextGeneration(run, List.of(c.workerId()), List.of(WorkerInfo.of(c)),
                    c.workerId() + " restarted", now));
        } else if (state instanceof WaitingForWorkers) {
            List<WorkerInfo> joiners = new ArrayList<>(run.pending());
            joiners.removeIf(w -> w.workerId().equals(c.workerId()));
            joiners.add(WorkerInfo.of(c));
            // after a restart there is nobody else to wait for once every worker of the run is back
            boolean allBack = !awaited.isEmpty()
                    && joiners.stream().map(WorkerInfo::workerId).collect(Collectors.toSet()).containsAll(awaited);
            if (formsAtOnce || allBack) {
                awaited = Set.of();
                d = d.and(planner.generation(run, joiners, allBack ? "every member is back" : "first members", now));
            }
        }
        return d.reply(c.replyTo(), new Registered(c.workerId(), run.runId(), run.spec(),
                d.generationAfter(run.generation())));
    }

    /** Whether {@code c} comes from another node than {@code known}'s, and that node is still a member. */
    private boolean heldByAnotherNode(WorkerInfo known, Register c) {
        return !known.ref().path().address().equals(c.replyTo().path().address()) && nodeIsMember.test(known.ref());
    }

    private static Optional<Decision> refusal(CoordinatorState state, Register c) {
        if (c.protocolVersion() != BuildInfo.protocolVersion()) {
            return Optional.of(refuse(c, RefusalReason.PROTOCOL_VERSION, "worker " + c.workerId() + " speaks protocol "
                    + c.protocolVersion() + ", this coordinator " + BuildInfo.protocolVersion()
                    + ": run the same clmr build (" + BuildInfo.version() + ") on every node"));
        }
        if (state instanceof Idle) {
            return Optional.of(refuse(c, RefusalReason.NO_RUN, "no run is started on this coordinator: start one"
                    + " with `clmr control start`, then start worker " + c.workerId() + " again"));
        }
        RunData run = state.run().orElseThrow();
        if (state instanceof Completed done) {
            return Optional.of(refuse(c, RefusalReason.RUN_COMPLETED, "run " + run.runId() + " is " + done.reason()
                    + ": start a new run before registering worker " + c.workerId()));
        }
        if (!c.datasetHash().equals(run.datasetHash())) {
            return Optional.of(refuse(c, RefusalReason.DATASET_MISMATCH, "worker " + c.workerId() + " reads dataset "
                    + c.datasetHash() + ", which differs from the dataset of run " + run.runId() + ": give the worker"
                    + " the run's packed dataset", " (the run's is " + run.datasetHash() + ")"));
        }
        return Optional.empty();
    }

    private static Decision refuse(Register c, RefusalReason reason, String message) {
        return refuse(c, reason, message, "");
    }

    /** A refusal whose {@code message} goes to the worker, and whose log line adds {@code coordinatorOnly}. */
    private static Decision refuse(Register c, RefusalReason reason, String message, String coordinatorOnly) {
        return Decision.none().count(new Decision.Refused(reason))
                .warn("registration refused (" + reason + "): " + message + coordinatorOnly)
                .reply(c.replyTo(), new RegisterRefused(c.workerId(), reason, message));
    }

    /** The formation delay of a waiting run is over: its first generation, of every joiner. */
    public Decision formFirstGeneration(CoordinatorState state, Instant now) {
        if (state instanceof WaitingForWorkers w && !w.data().pending().isEmpty()) {
            return planner.generation(w.data(), w.data().pending(), "first members", now);
        }
        return Decision.none();
    }

    /**
     * After recovery: the recorded workers whose nodes are not in this cluster ({@code inCluster} says) registered
     * with an earlier incarnation and are forgotten (they register again); registrations open.
     */
    public Decision checkMembers(CoordinatorState state, Predicate<WorkerInfo> inCluster, Instant now) {
        open = true;
        List<String> gone = new ArrayList<>();
        if (!(state instanceof Completed)) {
            state.run().ifPresent(run -> {
                run.members().stream().filter(inCluster.negate()).forEach(w -> gone.add(w.workerId()));
                run.pending().stream().filter(inCluster.negate()).forEach(w -> gone.add(w.workerId()));
            });
        }
        if (gone.isEmpty()) {
            return Decision.none();
        }
        return remove(state, "recovered", gone, FailureReason.LOST_WITH_COORDINATOR,
                gone + " registered with an earlier coordinator and are not in this cluster", now);
    }

    /** A worker leaves on purpose. */
    public Decision leave(CoordinatorState state, Leave c, Instant now) {
        return remove(state, "leave", List.of(c.workerId()), FailureReason.LEFT,
                c.workerId() + " left (" + c.reason() + ")", now);
    }

    /** A watched worker actor terminated; a duplicate unless it is the worker's current incarnation. */
    public Decision terminated(CoordinatorState state, String workerId, ActorRef<ToWorker> ref, Instant now) {
        boolean current = state.run().flatMap(r -> r.memberOrJoiner(workerId)).map(w -> w.ref().equals(ref))
                .orElse(false);
        if (!current) {
            return Decision.none().classified("terminated", Classification.DUPLICATE);
        }
        return remove(state, "terminated", List.of(workerId), FailureReason.TERMINATED,
                workerId + " terminated (downed or stopped)", now);
    }

    /**
     * Removes workers (a message of {@code type}, classified unknown when none of them is in the run); a
     * member's removal while running starts a new generation with the survivors.
     */
    public Decision remove(CoordinatorState state, String type, List<String> workerIds, FailureReason reason,
                           String why, Instant now) {
        Optional<RunData> maybeRun = state.run();
        List<String> known = maybeRun.map(run -> workerIds.stream()
                .filter(id -> run.memberOrJoiner(id).isPresent()).toList()).orElse(List.of());
        if (known.isEmpty()) {
            return Decision.none().classified(type, Classification.UNKNOWN);
        }
        RunData run = maybeRun.get();
        Decision d = Decision.none().classified(type, Classification.ACCEPTED);
        for (String id : known) {
            d = d.and(Decision.persist(new WorkerRemoved(id, reason, now)));
        }
        boolean memberLost = known.stream().anyMatch(id -> run.member(id).isPresent());
        if (state instanceof Running && memberLost) {
            d = d.and(nextGeneration(run, known, List.of(), why, now));
        }
        return d;
    }

    /**
     * The generation after some members are gone (and joiners added): survivors keep their order, then joiners;
     * nothing when nobody is left (the run then waits for workers).
     */
    public Decision nextGeneration(RunData run, List<String> gone, List<WorkerInfo> extraJoiners, String why,
                                   Instant now) {
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
        return candidates.isEmpty() ? Decision.none() : planner.generation(run, candidates, why, now);
    }

    /** A new generation, as every member hears it: one message, one fresh key for all of them. */
    public Decision announce(RunData run) {
        Decision d = Decision.none().info("generation " + run.generation() + ": " + run.members().stream()
                .map(w -> w.workerId() + "=" + w.share()).toList() + " from " + run.resume().describe());
        Reconfigure reconfigure = reconfigure(run);
        for (WorkerInfo w : run.members()) {
            d = d.tell(w.ref(), reconfigure);
        }
        return d;
    }

    /**
     * The generation's message to its members, with the generation's frame key: fresh from SecureRandom the first
     * time, the same key every time after (a member that missed it hears it again on registering), in memory
     * only: never in an event, since a key in the journal would be a secret at rest, and a restarted coordinator
     * forms a new generation, hence a new key, anyway.
     */
    private Reconfigure reconfigure(RunData run) {
        List<Member> members = new ArrayList<>();
        for (int i = 0; i < run.members().size(); i++) {
            WorkerInfo w = run.members().get(i);
            members.add(new Member(i, w.workerId(), w.aeronEndpoint(), w.share()));
        }
        return new Reconfigure(run.runId(), run.spec(), run.generation(), members, run.resume(), run.stepsPerEpoch(),
                keyOf(run));
    }

    private FrameKey keyOf(RunData run) {
        if (frameKey == null || keyedGeneration != run.generation() || !run.runId().equals(keyedRun)) {
            frameKey = FrameKey.random();
            keyedRun = run.runId();
            keyedGeneration = run.generation();
        }
        return frameKey;
    }

    /**
     * A removal, once persisted: logged, and a worker evicted (by its peers, or replaced by a new incarnation)
     * or drained is told to stop; {@code before} is the run as it was, with the worker in it.
     */
    public static Decision removed(RunData before, WorkerRemoved r) {
        Decision d = Decision.none().info("worker " + r.workerId() + " removed (" + r.reason() + ")");
        StopReason stop = switch (r.reason()) {
            case PEER_TIMEOUT, RESTARTED -> StopReason.REMOVED;
            case DRAINED -> StopReason.DRAINED;
            default -> null;
        };
        Optional<WorkerInfo> w = before.memberOrJoiner(r.workerId());
        return stop == null || w.isEmpty() ? d : d.tell(w.get().ref(), new Stop(before.runId(), stop));
    }

    /** The run is over: every member and joiner is told to stop. */
    public static Decision completed(RunData run, StopReason reason) {
        Stop stop = new Stop(run.runId(), reason);
        Decision d = Decision.none();
        for (WorkerInfo w : run.members()) {
            d = d.tell(w.ref(), stop);
        }
        for (WorkerInfo w : run.pending()) {
            d = d.tell(w.ref(), stop);
        }
        return d;
    }
}

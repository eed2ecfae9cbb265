package org.clmr.coordinator.checkpoint;

import org.clmr.coordinator.desk.Classification;
import org.clmr.coordinator.desk.Decision;
import org.clmr.coordinator.desk.TolerancePolicy;
import org.clmr.coordinator.journal.CoordinatorEvent.CheckpointRecorded;
import org.clmr.coordinator.journal.CoordinatorEvent.RunCompleted;
import org.clmr.coordinator.journal.CoordinatorEvent.RunPaused;
import org.clmr.coordinator.journal.CoordinatorState;
import org.clmr.coordinator.journal.CoordinatorState.Completed;
import org.clmr.coordinator.journal.CoordinatorState.Running;
import org.clmr.coordinator.journal.CoordinatorState.WaitingForWorkers;
import org.clmr.coordinator.journal.RunData;
import org.clmr.coordinator.journal.WorkerInfo;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointCommitted;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointFailed;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointRequest;
import org.clmr.protocol.cluster.CoordinatorProtocol.CheckpointWritten;
import org.clmr.protocol.cluster.CoordinatorProtocol.StopReason;

import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * The checkpoint desk: where a checkpoint is asked for, verified and committed. At a checkpoint step (and at the
 * run's end) it opens a {@link CheckpointRound} and asks rank 0 for the checkpoint; when rank 0 reports it
 * written the shell reads it back ({@link CheckpointVerifier}) and this desk commits it as a
 * {@link CheckpointRecorded} event, after which the members hear {@link CheckpointCommitted}. Failures are counted
 * and weighed by the {@link TolerancePolicy}: enough in a row pause the run, and a final checkpoint that cannot be
 * written lets the run complete without it.
 *
 * <p>In memory only, owned by the coordinator's shell: the open round, the next id (recovered from the journal),
 * the failures in a row and the step whose final checkpoint failed. Runs on the coordinator actor's thread.
 */
public final class Checkpoints {
    private final TolerancePolicy tolerance;
    private final LongSupplier freeBytes;
    private final long minFreeBytes;
    private final Clock clock;
    private CheckpointRound round;
    private long nextId = 1;
    private int failuresInARow;
    private long finalFailedAt = -1;

    /** A desk that pauses the run as {@code tolerance} says, and never for space. */
    public Checkpoints(TolerancePolicy tolerance) {
        this(tolerance, () -> -1, 0, Clock.systemUTC());
    }

    /**
     * A desk that also pauses the run, instead of asking for a checkpoint, while the store's file system is short
     * of space: it must have {@code minFreeBytes} free beyond twice the newest checkpoint (a database that runs out
     * of space mid-write closes itself).
     *
     * @param freeBytes bytes free where the checkpoints go, or -1 where that is not known (a database server)
     * @param clock     when a pause for space happens
     */
    public Checkpoints(TolerancePolicy tolerance, LongSupplier freeBytes, long minFreeBytes, Clock clock) {
        this.tolerance = tolerance;
        this.freeBytes = freeBytes;
        this.minFreeBytes = minFreeBytes;
        this.clock = clock;
    }

    /** The coordinator recovered {@code run}: ids go on after its newest committed checkpoint. */
    public void recovered(RunData run) {
        nextId = Math.max(nextId, run.lastCheckpointId() + 1);
    }

    /** An operator resumed the run: the failures so far no longer count. */
    public void resumed() {
        failuresInARow = 0;
    }

    /** The open round, if any. */
    public Optional<CheckpointRound> round() {
        return Optional.ofNullable(round);
    }

    /** The members hold {@code step}: a checkpoint request when one is due there and not already saved or asked. */
    public Decision dueAt(RunData run, long step) {
        CheckpointRecord last = run.lastCheckpoint();
        boolean due = step > 0 && step % run.spec().checkpoint().everySteps() == 0
                && (last == null || last.step() < step) && (round == null || round.step() < step);
        if (!due) {
            return Decision.none();
        }
        Optional<String> noRoom = shortOfSpace(run);
        return noRoom.isEmpty() ? request(run, step) : Decision.persist(new RunPaused(noRoom.get(), clock.instant()))
                .warn("no checkpoint of step " + step + ": " + noRoom.get());
    }

    /** Why the store's file system has no room for the next checkpoint, if it has none. */
    private Optional<String> shortOfSpace(RunData run) {
        long free = freeBytes.getAsLong();
        long newest = run.lastCheckpoint() == null ? 0 : run.lastCheckpoint().sizeBytes();
        if (minFreeBytes <= 0 || free < 0 || free >= minFreeBytes + 2 * newest) {
            return Optional.empty();
        }
        return Optional.of("the file system of the coordinator's database has " + mib(free) + " free, less than"
                + " clmr.coordinator.min-free-disk (" + mib(minFreeBytes) + ") plus twice the newest checkpoint ("
                + mib(2 * newest) + "): free space there, then `clmr control resume`");
    }

    private static String mib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    /**
     * The members hold the run's last step: the run completes once that step is saved (or its checkpoint could not
     * be written); until then its checkpoint is asked for, once.
     */
    public Decision atRunEnd(RunData run, long step, Instant now) {
        boolean saved = run.lastCheckpoint() != null && run.lastCheckpoint().step() >= step;
        if (saved || finalFailedAt == step) {
            return Decision.persist(new RunCompleted(StopReason.FINISHED, now));
        }
        Optional<String> noRoom = shortOfSpace(run);
        if (noRoom.isPresent()) {
            return Decision.persist(new RunPaused(noRoom.get(), now)).warn("no final checkpoint yet: " + noRoom.get());
        }
        return round == null || round.step() < step ? request(run, step) : Decision.none();
    }

    /**
     * The last member is leaving and holds {@code step}: its checkpoint is asked for, unless that step is saved
     * already or its round is still open.
     */
    public Decision beforeLastMemberLeaves(RunData run, long step) {
        boolean saved = run.lastCheckpoint() != null && run.lastCheckpoint().step() >= step;
        boolean asked = round != null && round.step() == step;
        Optional<String> noRoom = shortOfSpace(run);
        if (!saved && !asked && noRoom.isPresent()) {
            return Decision.none().warn("the last member waits: " + noRoom.get());
        }
        return saved || asked ? Decision.none() : request(run, step);
    }

    private Decision request(RunData run, long step) {
        if (run.members().isEmpty()) {
            return Decision.none();
        }
        round = new CheckpointRound(nextId++, step, run.generation());
        WorkerInfo rank0 = run.members().get(0);
        return Decision.none().tell(rank0.ref(), new CheckpointRequest(run.generation(), round.id(), step))
                .info("checkpoint " + round.id() + " of step " + step + " requested from " + rank0.workerId());
    }

    /** Rank 0 reports a checkpoint written. When the decision is accepted, the shell verifies it. */
    public Decision written(CoordinatorState state, CheckpointWritten c) {
        Optional<RunData> run = state.run();
        Classification cls = run.isEmpty() || round == null ? Classification.UNKNOWN
                : round.written(c.checkpointId(), c.record());
        if (cls == Classification.UNKNOWN && run.isPresent()) {
            if (c.checkpointId() == run.get().lastCheckpointId()) {
                cls = Classification.DUPLICATE;
            } else if (c.generation() < run.get().generation()) {
                cls = Classification.STALE;
            }
        }
        Decision d = Decision.none().classified("checkpoint-written", cls);
        return cls == Classification.ACCEPTED ? d : d.warn("checkpoint " + c.checkpointId() + " of step "
                + c.record().step() + " from " + c.workerId() + " is " + cls + "; ignored");
    }

    /**
     * The shell read checkpoint {@code checkpointId} back: whole when {@code problem} is null. A whole one is
     * committed (and completes the run when it saves its last step) unless a newer one is already committed.
     */
    public Decision verified(CoordinatorState state, long checkpointId, CheckpointRecord record, String problem,
                             Instant now) {
        if (round == null || round.verified(checkpointId, problem) != Classification.ACCEPTED) {
            return Decision.none();
        }
        CheckpointRound r = round;
        if (problem != null) {
            round = null;
            return failure(state, r.step(), "checkpoint " + checkpointId + " of step " + r.step()
                    + " failed verification: " + problem, now);
        }
        failuresInARow = 0;
        Optional<RunData> run = state.run();
        if (run.isEmpty() || state instanceof Completed
                || (run.get().lastCheckpoint() != null && run.get().lastCheckpoint().step() >= record.step())) {
            round = null;
            return Decision.none();
        }
        Decision d = Decision.persist(new CheckpointRecorded(checkpointId, record, now));
        if (state instanceof Running && record.step() >= run.get().totalSteps()) {
            d = d.and(Decision.persist(new RunCompleted(StopReason.FINISHED, now)));
        }
        return d;
    }

    /** Rank 0 could not write a checkpoint. */
    public Decision failed(CoordinatorState state, CheckpointFailed c, Instant now) {
        Classification cls = round == null ? Classification.UNKNOWN : round.notWritten(c.checkpointId(), c.reason());
        if (cls != Classification.ACCEPTED) {
            return Decision.none().classified("checkpoint-failed", cls);
        }
        round = null;
        return Decision.none().classified("checkpoint-failed", cls).and(failure(state, c.step(), "checkpoint "
                + c.checkpointId() + " of step " + c.step() + " was not written by " + c.workerId() + ": " + c.reason(),
                now));
    }

    private Decision failure(CoordinatorState state, long step, String what, Instant now) {
        failuresInARow++;
        Decision d = Decision.none().count(Decision.Incident.CHECKPOINT_FAILED)
                .warn(what + " (" + failuresInARow + " in a row)");
        if (state instanceof Running r && step >= r.data().totalSteps()) {
            finalFailedAt = step;
            CheckpointRecord newest = r.data().lastCheckpoint();
            return d.warn("the run completes without a checkpoint of its last step " + step + "; its newest is "
                            + (newest == null ? "none" : "of step " + newest.step()))
                    .and(Decision.persist(new RunCompleted(StopReason.FINISHED, now)));
        }
        if (tolerance.onCheckpointFailure(failuresInARow) == TolerancePolicy.CheckpointDecision.PAUSE_RUN
                && (state instanceof Running || state instanceof WaitingForWorkers)) {
            return d.and(Decision.persist(new RunPaused(failuresInARow + " checkpoints failed in a row (last: "
                    + what + "); fix the checkpoint store, then `clmr control resume`", now)));
        }
        return d;
    }

    /**
     * A commit was persisted: its round is over, and the members hear of it (they may now resume from it).
     * Called by the shell after the event is persisted.
     */
    public Decision recorded(RunData run, CheckpointRecorded e) {
        nextId = Math.max(nextId, e.checkpointId() + 1);
        if (round != null && round.committed(e.checkpointId()) == Classification.ACCEPTED) {
            round = null;
        }
        CheckpointCommitted committed = new CheckpointCommitted(run.generation(), e.checkpointId(), e.record());
        Decision d = Decision.none().info("checkpoint " + e.checkpointId() + " of step " + e.record().step()
                + " committed (" + e.record().sizeBytes() + " bytes, sha256 " + e.record().sha256() + ")");
        for (WorkerInfo w : run.members()) {
            d = d.tell(w.ref(), committed);
        }
        return d;
    }
}

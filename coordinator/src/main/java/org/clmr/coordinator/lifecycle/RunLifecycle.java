package org.clmr.coordinator.lifecycle;

import org.clmr.coordinator.desk.Decision;
import org.clmr.coordinator.journal.CoordinatorEvent.RunCompleted;
import org.clmr.coordinator.journal.CoordinatorEvent.RunPaused;
import org.clmr.coordinator.journal.CoordinatorEvent.RunResumed;
import org.clmr.coordinator.journal.CoordinatorEvent.RunStarted;
import org.clmr.coordinator.journal.CoordinatorState;
import org.clmr.coordinator.journal.CoordinatorState.Completed;
import org.clmr.coordinator.journal.CoordinatorState.Paused;
import org.clmr.coordinator.journal.RunData;
import org.clmr.coordinator.membership.Admission;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.cluster.ControlInput;
import org.clmr.protocol.cluster.CoordinatorProtocol.OperatorReply;
import org.clmr.protocol.cluster.CoordinatorProtocol.PauseRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.ResumeRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.StartRun;
import org.clmr.protocol.cluster.CoordinatorProtocol.StopReason;
import org.clmr.protocol.cluster.CoordinatorProtocol.StopRun;
import org.clmr.protocol.cluster.IfRunExists;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The lifecycle desk: operators start, pause, resume and stop runs here. A start is decided in two halves: the
 * shell checks the command ({@link #check}), looks the run id up in the checkpoint store off the actor's thread
 * ({@link StoredRun#lookUp}), and then this desk decides ({@link #lookedUp}). A run id that exists (the last run,
 * or checkpoints in the store) is never reused silently: the start is refused, saying what exists and how to
 * resume it or start it afresh, unless {@link IfRunExists} says which. Stateless; coordinator actor's thread.
 */
public final class RunLifecycle {
    private final Admission admission;

    /** A desk whose resumed runs form their next generation through {@code admission}. */
    public RunLifecycle(Admission admission) {
        this.admission = admission;
    }

    /** The refusal of a start that cannot be (a bad id, too few tracks), before the store is asked. */
    public Optional<Decision> check(StartRun c) {
        Optional<String> badRunId = ControlInput.runIdProblem(c.runId());
        if (badRunId.isPresent()) {
            return Optional.of(refuse(c, badRunId.get()));
        }
        if (c.tracks() < c.spec().globalBatch()) {
            return Optional.of(refuse(c, "the dataset has " + c.tracks() + " tracks, fewer than clmr.run.global-batch = "
                    + c.spec().globalBatch() + ": use a larger dataset or a smaller batch"));
        }
        if (c.runId().isBlank()) {
            return Optional.of(refuse(c, "a run needs a non-empty id"));
        }
        return Optional.empty();
    }

    /**
     * The store was asked what it holds of a start's run id: the start is decided ({@link #start}), or refused
     * when the store could not answer.
     *
     * @param failure why the lookup failed, or null
     */
    public Decision lookedUp(CoordinatorState state, StartRun c, StoredRun found, String failure, Instant now) {
        if (failure != null) {
            return refuse(c, "cannot look up the checkpoints of run " + c.runId() + ": " + failure
                    + "; check the checkpoint store (clmr.coordinator.database)");
        }
        return start(state, c, found, now);
    }

    /** A start (or its lookup's result) while a run is active: refused. */
    public static Decision busy(CoordinatorState state, StartRun c) {
        return refuse(c, "run " + state.run().orElseThrow().runId() + " is " + state.phase()
                + ": stop it before starting another");
    }

    /**
     * Starts run {@code c.runId()} (the phase is idle or completed), given what the store holds of it.
     *
     * @param found what the store held of the id, and what the start's lookup did to it
     */
    public Decision start(CoordinatorState state, StartRun c, StoredRun found, Instant now) {
        Optional<RunData> last = state.run().filter(r -> r.runId().equals(c.runId()));
        boolean exists = last.isPresent() || !found.checkpoints().isEmpty();
        long spe = c.tracks() / c.spec().globalBatch();
        String started = "run " + c.runId() + " started: " + c.spec().epochs() + " epochs of " + spe + " steps";
        return switch (c.existing()) {
            case REFUSE -> exists ? refuse(c, describe(state, c.runId(), found) + ": resume it with `clmr control start"
                    + " --run-id " + c.runId() + " --resume`, or start it afresh with `--fresh keep` (its checkpoints"
                    + " are kept as run " + c.runId() + StoredRun.ARCHIVED + "N) or `--fresh drop` (deleted), or use"
                    + " another --run-id") : fresh(c, spe, now, started + "; waiting for workers");
            case RESUME -> resumeExisting(state, c, found, spe, now);
            case FRESH_KEEP -> fresh(c, spe, now, started + " afresh" + (found.archivedAs() == null ? ""
                    : "; its earlier " + found.describe() + " are kept as run " + found.archivedAs())
                    + "; waiting for workers");
            case FRESH_DROP -> fresh(c, spe, now, started + " afresh" + (found.dropped() == 0 ? ""
                    : "; its earlier " + found.describe() + " were deleted") + "; waiting for workers");
        };
    }

    private Decision resumeExisting(CoordinatorState state, StartRun c, StoredRun found, long spe, Instant now) {
        Optional<RunData> last = state.run().filter(r -> r.runId().equals(c.runId()));
        if (last.isEmpty() && found.checkpoints().isEmpty()) {
            return refuse(c, "there is no run " + c.runId() + " to resume (not this coordinator's last run, no"
                    + " checkpoints in its store): start it without --resume");
        }
        if (state instanceof Completed done && last.isPresent() && done.stopReason() == StopReason.FINISHED) {
            return refuse(c, "run " + c.runId() + " " + done.reason() + "; there is nothing to resume: start it afresh"
                    + " (--fresh keep or --fresh drop) or use another --run-id");
        }
        if (last.isPresent() && !last.get().datasetHash().equals(c.datasetHash())) {
            return refuse(c, "run " + c.runId() + " trained on dataset " + last.get().datasetHash() + ", this start"
                    + " names " + c.datasetHash() + ": resume it with its dataset");
        }
        CheckpointRecord from = found.resumable();
        if (from == null && !found.checkpoints().isEmpty()) {
            return refuse(c, "no checkpoint of run " + c.runId() + " reads back whole (" + String.join("; ",
                    found.unreadable()) + "): start it afresh (--fresh keep or --fresh drop)");
        }
        String spec = from != null ? from.runSpecHash() : last.get().spec().hash();
        if (!spec.equals(c.spec().hash())) {
            return refuse(c, "run " + c.runId() + " was trained under RunSpec " + spec + ", this coordinator's"
                    + " configuration gives " + c.spec().hash() + ": start the coordinator with the run's"
                    + " configuration (clmr.run), or start the run afresh");
        }
        if (from != null && from.step() >= spe * c.spec().epochs()) {
            return refuse(c, "run " + c.runId() + " has a checkpoint of step " + from.step() + ", the end of its "
                    + c.spec().epochs() + " epochs; there is nothing to resume: start it afresh or use another --run-id");
        }
        String skipped = found.unreadable().isEmpty() ? "" : " (" + found.unreadable().size()
                + " newer checkpoints did not read back whole: " + String.join("; ", found.unreadable()) + ")";
        return Decision.persist(new RunStarted(c.runId(), c.spec(), c.datasetHash(), c.tracks(), spe, now, from))
                .reply(c.replyTo(), new OperatorReply(true, "run " + c.runId() + " resumed from " + (from == null
                        ? "step 0 (it has no checkpoint)" : "its checkpoint of step " + from.step()) + skipped
                        + "; waiting for workers"));
    }

    private static Decision fresh(StartRun c, long spe, Instant now, String message) {
        return Decision.persist(new RunStarted(c.runId(), c.spec(), c.datasetHash(), c.tracks(), spe, now))
                .reply(c.replyTo(), new OperatorReply(true, message));
    }

    /** What exists of a run id, in one line: the coordinator's last run, and the store's checkpoints. */
    private static String describe(CoordinatorState state, String runId, StoredRun found) {
        String what = "run " + runId + " exists";
        Optional<RunData> last = state.run().filter(r -> r.runId().equals(runId));
        if (last.isPresent()) {
            what += " (" + state.phase() + ": " + state.reason() + ", step " + last.get().committedStep() + ")";
        }
        return what + " with " + found.describe();
    }

    /** An operator pauses the run: members stop at the next plan boundary. */
    public Decision pause(PauseRun c, Instant now) {
        return Decision.persist(new RunPaused("paused by an operator", now))
                .reply(c.replyTo(), new OperatorReply(true, "paused; members stop at the next plan boundary"));
    }

    /** An operator resumes a paused run: the next generation of its members, or it waits for workers. */
    public Decision resume(Paused state, ResumeRun c, Instant now) {
        Decision next = admission.nextGeneration(state.data(), List.of(), List.of(), "resumed by an operator", now);
        return Decision.persist(new RunResumed(now)).and(next).reply(c.replyTo(), new OperatorReply(true,
                next.events().isEmpty() ? "resumed; waiting for workers" : "resumed: the members go on from the newest"
                        + " state they hold"));
    }

    /** An operator stops the run: members and joiners are told to stop. */
    public Decision stop(CoordinatorState state, StopRun c, Instant now) {
        return Decision.persist(new RunCompleted(StopReason.STOPPED, now))
                .reply(c.replyTo(), new OperatorReply(true, "run " + state.run().orElseThrow().runId() + " stopped"));
    }

    private static Decision refuse(StartRun c, String why) {
        return Decision.none().reply(c.replyTo(), new OperatorReply(false, why));
    }
}

package org.clmr.coordinator;

import akka.actor.typed.ActorRef;
import org.clmr.coordinator.checkpoint.Checkpoints;
import org.clmr.coordinator.desk.Decision;
import org.clmr.coordinator.journal.CoordinatorEvent;
import org.clmr.coordinator.journal.CoordinatorEvent.CheckpointRecorded;
import org.clmr.coordinator.journal.CoordinatorEvent.EpochCompleted;
import org.clmr.coordinator.journal.CoordinatorEvent.RunCompleted;
import org.clmr.coordinator.journal.CoordinatorEvent.RunStarted;
import org.clmr.coordinator.journal.CoordinatorEvent.WorkerRemoved;
import org.clmr.coordinator.journal.CoordinatorState;
import org.clmr.coordinator.journal.RunData;
import org.clmr.coordinator.lifecycle.RunLifecycle;
import org.clmr.coordinator.membership.Admission;
import org.clmr.coordinator.membership.Draining;
import org.clmr.coordinator.membership.PeerTimeoutJury;
import org.clmr.coordinator.plan.Boundaries;
import org.clmr.coordinator.plan.ProgressTracker;
import org.clmr.coordinator.plan.RunPlanner;
import org.clmr.protocol.cluster.CoordinatorProtocol.DrainWorker;

import java.time.Clock;
import java.time.Instant;
import java.util.function.Predicate;

/**
 * The desks of one {@link Coordinator} incarnation, and the decisions that take several of them (a plan boundary,
 * a drain, what a persisted event means to them). What the desks hold lives in memory only and is rebuilt from the
 * journal and the workers' repeated reports: the shell makes fresh desks at the start, and when a failed persist
 * left them holding what was never written. Like every desk, this returns {@link Decision}s and never an Akka
 * effect. Coordinator actor's thread.
 */
final class Desks {
    final ProgressTracker progress;
    final Admission admission;
    final PeerTimeoutJury jury;
    final Draining draining;
    final Boundaries boundaries;
    final Checkpoints checkpoints;
    final RunLifecycle lifecycle;

    /**
     * Fresh desks.
     *
     * @param freeBytes    bytes free on the journal's file system (-1: unknown), for the checkpoint desk
     * @param nodeIsMember whether a worker actor's node is a member of this cluster
     */
    Desks(CoordinatorSettings settings, JournalHealth journal, Clock clock, Predicate<ActorRef<?>> nodeIsMember) {
        progress = new ProgressTracker(settings.throughputEmaAlpha());
        RunPlanner planner = new RunPlanner(settings.planSteps(), settings.rebalanceThreshold(), progress);
        admission = new Admission(planner, settings.formationDelay().isZero(), nodeIsMember);
        checkpoints = new Checkpoints(settings.tolerance(), journal::freeBytes, settings.minFreeDisk(), clock);
        jury = new PeerTimeoutJury(admission, settings.tolerance());
        draining = new Draining(planner, checkpoints::beforeLastMemberLeaves);
        boundaries = new Boundaries(planner, progress);
        lifecycle = new RunLifecycle(admission);
    }

    /** A progress report the plan desk heard while running: a new boundary is decided on, see {@link #atBoundary}. */
    Decision heard(RunData run, Boundaries.Heard heard, long step, String reporter, Instant now) {
        return heard.newBoundary() ? heard.decision().and(atBoundary(run, step, reporter, now)) : heard.decision();
    }

    /**
     * The members hold {@code step}, a plan boundary: the epoch it ends is recorded, and the run ends there, or
     * draining members leave, or joiners are admitted or shares re-balanced, or the members plan on.
     */
    Decision atBoundary(RunData run, long step, String reporter, Instant now) {
        Decision epoch = boundaries.epochEnd(run, step, now);
        if (step >= run.totalSteps()) {
            return epoch.and(checkpoints.atRunEnd(run, step, now));
        }
        if (draining.anyIn(run)) {
            if (draining.nobodyStays(run)) {
                return epoch.and(draining.lastMemberAt(run, step, checkpoints.beforeLastMemberLeaves(run, step)));
            }
            // only a staying member may broadcast the next generation's state; the others repeat their reports
            return draining.isDraining(reporter) ? Decision.none()
                    : epoch.and(draining.atBoundary(run, step, reporter, now));
        }
        return epoch.and(boundaries.regroup(run, step, reporter, now).orElseGet(() -> continueAt(run, step)));
    }

    /** Members hold {@code step}: ask for a checkpoint if one is due, then plan the next steps. */
    Decision continueAt(RunData run, long step) {
        return checkpoints.dueAt(run, step).and(boundaries.planFrom(run, step));
    }

    /** A new generation was persisted: announce it and plan its first steps. */
    Decision started(RunData run) {
        return admission.announce(run).and(continueAt(run, run.resume().step()));
    }

    /** A worker is to be drained at the next plan boundary (or at once when it is not training a plan). */
    Decision drain(CoordinatorState state, DrainWorker c, Instant now) {
        return draining.request(state, c, state.run().map(boundaries::nextBoundary).orElse(0L),
                progress.stepIn(c.workerId(), state.generation()), now);
    }

    /** What a persisted event means to the desks: what they forget, and what is sent or logged. */
    Decision persisted(CoordinatorState before, CoordinatorState after, CoordinatorEvent e) {
        if (e instanceof RunStarted) {
            progress.clear();
            draining.clear();
        } else if (e instanceof WorkerRemoved r) {
            progress.forget(r.workerId());
            draining.forget(r.workerId());
            return before.run().map(run -> Admission.removed(run, r)).orElse(Decision.none());
        } else if (e instanceof CheckpointRecorded cr && after.run().isPresent()) {
            return checkpoints.recorded(after.run().get(), cr);
        } else if (e instanceof EpochCompleted ec) {
            return Decision.none().info("epoch " + ec.epoch() + " completed at step " + ec.step());
        } else if (e instanceof RunCompleted rc && after.run().isPresent()) {
            return Admission.completed(after.run().get(), rc.reason());
        }
        return Decision.none();
    }
}

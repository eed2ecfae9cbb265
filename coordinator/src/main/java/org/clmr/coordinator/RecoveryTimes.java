package org.clmr.coordinator;

import io.prometheus.metrics.core.metrics.Histogram;
import org.clmr.coordinator.journal.CoordinatorState;
import org.clmr.coordinator.journal.CoordinatorState.Running;
import org.clmr.coordinator.journal.FailureReason;
import org.clmr.coordinator.journal.RunPhase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;

/**
 * How long the run stood still after a failure, measured where the coordinator can see it and exported as the
 * histogram {@code clmr_recovery_seconds{cause}}:
 * <ul>
 *   <li>{@code worker_lost}: from the newest step a member completed before a member was removed for a failure
 *       (its peers timed out on it, its node was downed, it left or restarted) to the first step completed in
 *       the generation the survivors form;</li>
 *   <li>{@code coordinator_restart}: from the start of this coordinator's process to the first step completed
 *       in the run it recovered from its journal. Where that time goes is logged at the first step, phase by
 *       phase (process and CLI, database, actor system, cluster up, singleton, journal recovery, re-registration,
 *       generation formed, first step).</li>
 * </ul>
 * Marks come from the node's start ({@link CoordinatorNode}) and from the coordinator actor (through
 * {@link CoordinatorMetrics}); thread-safe.
 */
final class RecoveryTimes {
    private static final Logger LOG = LoggerFactory.getLogger(RecoveryTimes.class);

    private final Histogram histogram;
    private final Clock clock;
    private final Map<String, Instant> phases = new LinkedHashMap<>();
    private Instant lastStepAt;
    private Instant lostAt;
    private Instant restartFrom;
    private boolean recoveredOnce;

    RecoveryTimes(Histogram histogram, Clock clock) {
        this.histogram = histogram;
        this.clock = clock;
        histogram.labelValues("worker_lost");
        histogram.labelValues("coordinator_restart");
        ProcessHandle.current().info().startInstant().ifPresent(t -> phases.put("process start", t));
    }

    /** This process reached {@code phase} of a coordinator's start now (the first time only). */
    synchronized void mark(String phase) {
        phases.putIfAbsent(phase, clock.instant());
    }

    /**
     * The coordinator recovered {@code state}: the first recovery of this process, of a run in progress, starts the
     * restart measure, from the process's start (from the singleton's, when it moved here from another node long
     * after this node started).
     */
    synchronized void recovered(CoordinatorState state, Instant singletonStarted) {
        if (recoveredOnce) {
            return;
        }
        recoveredOnce = true;
        phases.putIfAbsent("singleton started", singletonStarted);
        mark("journal recovered");
        RunPhase p = state.phase();
        if (p == RunPhase.RUNNING || (p == RunPhase.WAITING_FOR_WORKERS
                && state.run().map(r -> r.generation() > 0).orElse(false))) {
            Instant start = phases.values().iterator().next();
            restartFrom = Duration.between(start, singletonStarted).toSeconds() > 60 ? singletonStarted : start;
        }
    }

    /** A worker registered. */
    void registered() {
        mark("re-registration");
    }

    /** A member was removed: for a failure, while others train on, the loss measure starts at the newest step. */
    synchronized void removed(FailureReason reason, CoordinatorState after) {
        boolean failure = reason == FailureReason.TERMINATED || reason == FailureReason.PEER_TIMEOUT
                || reason == FailureReason.LEFT || reason == FailureReason.RESTARTED;
        if (failure && after instanceof Running && lostAt == null && lastStepAt != null) {
            lostAt = lastStepAt;
        } else if (!(after instanceof Running)) {
            lostAt = null;
        }
    }

    /** A new generation started. */
    void generation() {
        mark("generation formed");
    }

    /**
     * A member's report of step {@code step} was accepted; {@code resumeStep} is where its generation started (a
     * report of that step is a state adopted, not a step completed).
     */
    synchronized void stepReported(long step, long resumeStep) {
        Instant now = clock.instant();
        if (step <= resumeStep) {
            return;
        }
        if (lostAt != null) {
            histogram.labelValues("worker_lost").observe(seconds(lostAt, now));
            LOG.info("recovery: a member was lost; the survivors completed their next step {} s after the last one"
                    + " before it", format(seconds(lostAt, now)));
            lostAt = null;
        }
        if (restartFrom != null) {
            mark("first step");
            histogram.labelValues("coordinator_restart").observe(seconds(restartFrom, now));
            LOG.info("recovery: coordinator restart to the first step {} s: {}", format(seconds(restartFrom, now)),
                    breakdown());
            restartFrom = null;
        }
        lastStepAt = now;
    }

    /** Each phase and the time since the one before, in the order they were reached. */
    private String breakdown() {
        StringJoiner j = new StringJoiner(", ");
        Instant before = null;
        for (Map.Entry<String, Instant> e : phases.entrySet().stream()
                .sorted(Map.Entry.comparingByValue()).toList()) {
            if (before != null) {
                j.add(e.getKey() + " +" + format(seconds(before, e.getValue())));
            }
            before = e.getValue();
        }
        return j.toString();
    }

    private static double seconds(Instant from, Instant to) {
        return Math.max(0, Duration.between(from, to).toNanos() / 1e9);
    }

    private static String format(double s) {
        return String.format(Locale.ROOT, "%.2f", s);
    }
}

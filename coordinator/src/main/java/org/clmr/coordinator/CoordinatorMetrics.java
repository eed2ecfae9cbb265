package org.clmr.coordinator;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.clmr.coordinator.desk.Classification;
import org.clmr.coordinator.desk.Decision.Classified;
import org.clmr.coordinator.desk.Decision.Count;
import org.clmr.coordinator.desk.Decision.Incident;
import org.clmr.coordinator.desk.Decision.Refused;
import org.clmr.coordinator.journal.CoordinatorState;
import org.clmr.coordinator.journal.FailureReason;
import org.clmr.coordinator.journal.RunData;
import org.clmr.coordinator.journal.RunPhase;
import org.clmr.coordinator.journal.WorkerInfo;
import org.clmr.protocol.checkpoint.CheckpointRecord;
import org.clmr.protocol.cluster.CoordinatorProtocol.RefusalReason;

import java.time.Clock;
import java.util.HashSet;
import java.util.Set;

/**
 * The coordinator's Prometheus metrics, in a registry of its own (two coordinators in one JVM do not
 * clash). Updated from the coordinator actor only; scraped from the HTTP thread.
 * <p>
 * Names follow Prometheus conventions: prefix {@code clmr_}, base units in the name ({@code _seconds},
 * {@code _bytes}, {@code _tracks}), counters end in {@code _total}, timestamps are
 * {@code _timestamp_seconds}. The only per-worker label is {@code worker}, on the members' gauges, and
 * its series are removed when the worker leaves the membership; the workers' own metrics are
 * {@code clmr_worker_*} (org.clmr.worker.metrics.WorkerMetrics).
 */
public final class CoordinatorMetrics {
    private final PrometheusRegistry registry;
    private final Gauge phase;
    private final Gauge generation;
    private final Gauge members;
    private final Gauge pending;
    private final Gauge share;
    private final Gauge throughput;
    private final Gauge committedStep;
    private final Gauge committedEpoch;
    private final Gauge checkpointSize;
    private final Gauge recovery;
    private final Counter events;
    private final Counter rejected;
    private final Counter lost;
    private final Counter classified;
    private final Counter checkpointFailures;
    private final Counter divergence;
    private final RecoveryTimes recoveryTimes;
    private final Gauge journalFailing;
    private final Counter journalFailures;
    private final Set<String> sharedWorkers = new HashSet<>();
    private long journalFailuresCounted;
    /** Whether a state was seen: the first (a recovery's) starts no generation. */
    private boolean stateSeen;
    private volatile long checkpointCreatedMillis = -1;

    /** Metrics registered in a fresh registry. */
    public CoordinatorMetrics(Clock clock) {
        this(new PrometheusRegistry(), clock);
    }

    /** Metrics registered in the given registry. */
    public CoordinatorMetrics(PrometheusRegistry registry, Clock clock) {
        this.registry = registry;
        phase = Gauge.builder().name("clmr_run_phase").help("1 for the coordinator's current phase")
                .labelNames("phase").register(registry);
        for (RunPhase p : RunPhase.values()) {
            phase.labelValues(p.name().toLowerCase()).set(p == RunPhase.IDLE ? 1 : 0);
        }
        generation = Gauge.builder().name("clmr_generation").help("Current membership generation").register(registry);
        members = Gauge.builder().name("clmr_members").help("Members of the current generation").register(registry);
        pending = Gauge.builder().name("clmr_pending_workers").help("Registered workers waiting to join")
                .register(registry);
        share = Gauge.builder().name("clmr_member_share_tracks")
                .help("Tracks of the global batch per step, per member of the current generation")
                .labelNames("worker").register(registry);
        throughput = Gauge.builder().name("clmr_member_throughput_samples_per_second")
                .help("Throughput EMA (tracks per second) each member's share was computed from")
                .labelNames("worker").register(registry);
        committedStep = Gauge.builder().name("clmr_committed_step").help("Newest durable step").register(registry);
        committedEpoch = Gauge.builder().name("clmr_committed_epoch").help("Epochs completed").register(registry);
        checkpointSize = Gauge.builder().name("clmr_checkpoint_size_bytes").help("Size of the newest committed checkpoint")
                .register(registry);
        GaugeWithCallback.builder().name("clmr_checkpoint_created_timestamp_seconds")
                .help("Unix time the newest committed checkpoint was written (absent before the first)")
                .callback(cb -> {
                    long created = checkpointCreatedMillis;
                    if (created >= 0) {
                        cb.call(created / 1000.0);
                    }
                }).register(registry);
        GaugeWithCallback.builder().name("clmr_checkpoint_age_seconds")
                .help("Seconds since the newest committed checkpoint was written (absent before the first)")
                .callback(cb -> {
                    long created = checkpointCreatedMillis;
                    if (created >= 0) {
                        cb.call((clock.millis() - created) / 1000.0);
                    }
                }).register(registry);
        recovery = Gauge.builder().name("clmr_recovery_duration_seconds")
                .help("Time the coordinator took to recover its state from the journal")
                .register(registry);
        events = Counter.builder().name("clmr_events_persisted_total").help("Events written to the journal")
                .register(registry);
        rejected = Counter.builder().name("clmr_registrations_rejected_total").help("Refused registrations by reason")
                .labelNames("reason").register(registry);
        lost = Counter.builder().name("clmr_workers_removed_total").help("Workers removed from the run by reason")
                .labelNames("reason").register(registry);
        classified = Counter.builder().name("clmr_messages_total")
                .help("Reports and replies by type and classification (accepted, duplicate, stale, unknown)")
                .labelNames("type", "classification").register(registry);
        checkpointFailures = Counter.builder().name("clmr_checkpoint_failures_total")
                .help("Checkpoints that were not written or failed verification").register(registry);
        divergence = Counter.builder().name("clmr_weight_divergence_total")
                .help("Progress reports whose weights fingerprint differs from another member's at the same step")
                .register(registry);
        recoveryTimes = new RecoveryTimes(Histogram.builder().name("clmr_recovery_seconds")
                .help("How long the run stood still after a failure: cause worker_lost (newest step before a member"
                        + " was removed for a failure to the survivors' next step), coordinator_restart (this"
                        + " coordinator's process start to the first step of the run it recovered)")
                .classicUpperBounds(1, 2, 3, 5, 7.5, 10, 15, 20, 30, 60, 120, 300).labelNames("cause")
                .register(registry), clock);
        journalFailing = Gauge.builder().name("clmr_journal_write_failing")
                .help("1 while the coordinator's journal cannot be written (a full disk): the run is paused").register(registry);
        journalFailures = Counter.builder().name("clmr_journal_write_failures_total")
                .help("Events the coordinator could not persist").register(registry);
        // Series that alerts and dashboards rate() exist from the start at 0, so the first increase counts.
        for (RefusalReason r : RefusalReason.values()) {
            rejected.labelValues(r.name().toLowerCase());
        }
        for (FailureReason r : FailureReason.values()) {
            lost.labelValues(r.name().toLowerCase());
        }
        for (Classification c : Classification.values()) {
            classified.labelValues("progress", c.name().toLowerCase());
        }
    }

    /** The registry to expose. */
    public PrometheusRegistry registry() {
        return registry;
    }

    void state(CoordinatorState state) {
        if (stateSeen && state.generation() > generation.get()) {
            recoveryTimes.generation();
        }
        stateSeen = true;
        for (RunPhase p : RunPhase.values()) {
            phase.labelValues(p.name().toLowerCase()).set(p == state.phase() ? 1 : 0);
        }
        generation.set(state.generation());
        RunData run = state.run().orElse(null);
        Set<String> now = new HashSet<>();
        if (run != null) {
            members.set(run.members().size());
            pending.set(run.pending().size());
            for (WorkerInfo w : run.members()) {
                share.labelValues(w.workerId()).set(w.share());
                throughput.labelValues(w.workerId()).set(w.samplesPerSecond());
                now.add(w.workerId());
            }
            committedStep.set(run.committedStep());
            committedEpoch.set(run.committedEpoch());
            CheckpointRecord c = run.lastCheckpoint();
            checkpointSize.set(c == null ? 0 : c.sizeBytes());
            checkpointCreatedMillis = c == null ? -1 : c.createdAt().toEpochMilli();
        } else {
            members.set(0);
            pending.set(0);
        }
        for (String gone : sharedWorkers) {
            if (!now.contains(gone)) {
                share.remove(gone);
                throughput.remove(gone);
            }
        }
        sharedWorkers.clear();
        sharedWorkers.addAll(now);
    }

    /** The journal's health: failures so far, and whether the run is paused for it (the phase gauge says paused). */
    void journal(JournalHealth health) {
        long total = health.failures();
        journalFailures.inc(Math.max(0, total - journalFailuresCounted));
        journalFailuresCounted = Math.max(journalFailuresCounted, total);
        boolean failing = health.pausing().isPresent();
        journalFailing.set(failing ? 1 : 0);
        if (failing) {
            for (RunPhase p : RunPhase.values()) {
                phase.labelValues(p.name().toLowerCase()).set(p == RunPhase.PAUSED ? 1 : 0);
            }
        }
    }

    void eventsPersisted(int n) {
        events.inc(n);
    }

    void removed(FailureReason reason, CoordinatorState after) {
        lost.labelValues(reason.name().toLowerCase()).inc();
        recoveryTimes.removed(reason, after);
    }

    /** Where recovery times are measured (marks of the node's start, the members' steps). */
    RecoveryTimes recovery() {
        return recoveryTimes;
    }

    /** Counts what a desk's decision says to count. */
    void count(Count c) {
        if (c instanceof Classified m) {
            classified.labelValues(m.type(), m.classification().name().toLowerCase()).inc();
            if (m.type().equals("register") && m.classification() == Classification.ACCEPTED) {
                recoveryTimes.registered();
            }
        } else if (c instanceof Refused r) {
            rejected.labelValues(r.reason().name().toLowerCase()).inc();
        } else if (c == Incident.CHECKPOINT_FAILED) {
            checkpointFailures.inc();
        } else if (c == Incident.WEIGHTS_DIVERGED) {
            divergence.inc();
        }
    }

    void recovered(double seconds, CoordinatorState state, java.time.Instant now) {
        recovery.set(seconds);
        recoveryTimes.recovered(state, now.minusNanos((long) (seconds * 1e9)));
    }
}

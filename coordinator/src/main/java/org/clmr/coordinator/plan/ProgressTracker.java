package org.clmr.coordinator.plan;

import org.clmr.coordinator.desk.Classification;
import org.clmr.protocol.cluster.CoordinatorProtocol.Progress;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Progress as reported by workers: in memory only (never an event per step; lost with the coordinator's
 * incarnation, and rebuilt as members repeat their newest report). Holds, per worker, its newest report and a
 * throughput EMA. Owned by the coordinator actor and shared with its desks; not thread-safe.
 */
public final class ProgressTracker {
    /** A worker's newest report in a generation, and its throughput EMA across generations. */
    public record Reported(long generation, long step, int epoch, double loss, double samplesPerSecondEma,
                    String weightsFingerprint) {
    }

    private final double alpha;
    private final Map<String, Reported> byWorker = new HashMap<>();

    /** A tracker whose EMAs weigh a new report by {@code alpha}. */
    public ProgressTracker(double alpha) {
        this.alpha = alpha;
    }

    /**
     * Classifies and, when accepted, records a report of the current generation.
     *
     * @return ACCEPTED for a newer step, DUPLICATE for a step already reported in this generation
     */
    public Classification record(Progress p, double initialThroughput) {
        Reported old = byWorker.get(p.workerId());
        if (old != null && old.generation() == p.generation() && p.step() <= old.step()) {
            return Classification.DUPLICATE;
        }
        double prior = old != null ? old.samplesPerSecondEma() : initialThroughput;
        double ema = Double.isFinite(p.samplesPerSecond()) && p.samplesPerSecond() > 0
                ? (Double.isFinite(prior) && prior > 0 ? alpha * p.samplesPerSecond() + (1 - alpha) * prior : p.samplesPerSecond())
                : prior;
        byWorker.put(p.workerId(), new Reported(p.generation(), p.step(), p.epoch(), p.loss(), ema,
                p.weightsFingerprint()));
        return Classification.ACCEPTED;
    }

    /**
     * Another worker's report of the same generation and step whose weights fingerprint differs from this
     * one's (members must hold bit-identical weights after every step).
     */
    public Optional<String> divergentFrom(Progress p) {
        for (Map.Entry<String, Reported> e : byWorker.entrySet()) {
            Reported r = e.getValue();
            if (!e.getKey().equals(p.workerId()) && r.generation() == p.generation() && r.step() == p.step()
                    && !r.weightsFingerprint().equals(p.weightsFingerprint())) {
                return Optional.of(e.getKey() + " has " + r.weightsFingerprint());
            }
        }
        return Optional.empty();
    }

    /** The worker's newest report, if any. */
    public Optional<Reported> get(String workerId) {
        return Optional.ofNullable(byWorker.get(workerId));
    }

    /** The worker's throughput EMA, or the fallback if it never reported. */
    public double throughput(String workerId, double fallback) {
        Reported r = byWorker.get(workerId);
        return r == null ? fallback : r.samplesPerSecondEma();
    }

    /** The step the worker reported in this generation, or -1. */
    public long stepIn(String workerId, long generation) {
        Reported r = byWorker.get(workerId);
        return r != null && r.generation() == generation ? r.step() : -1;
    }

    /** Forgets every report (a new run starts: the previous run's reports say nothing about it). */
    public void clear() {
        byWorker.clear();
    }

    /** Forgets a worker that is gone. */
    public void forget(String workerId) {
        byWorker.remove(workerId);
    }
}

package org.clmr.worker.metrics;

import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Labels;
import org.clmr.protocol.BuildInfo;
import org.clmr.worker.collective.CollectiveMetrics;
import org.clmr.worker.step.DistributedStep;

import java.util.OptionalLong;
import java.util.function.Supplier;

/**
 * One worker process's Prometheus metrics, in a registry of its own. Every series carries the constant
 * labels {@code worker} (the worker id: host/device/pid) and {@code device}; the rank is a gauge, not a
 * label, because it changes with every generation (a label would start new series each time).
 * <p>
 * Written by the training thread ({@link #generation}, {@link #step}, {@link #dataError}) and the worker
 * actor ({@link #phase}): a few atomic updates per step, nothing per frame. The collectives' frame
 * counters and the device memory are read at scrape time from the HTTP thread.
 */
public final class WorkerMetrics {
    /** The step phases of {@link DistributedStep.Phases}, as the {@code phase} label names them. */
    public static final String[] PHASES = {"data", "forward", "loss", "communication", "backward", "optimizer"};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Histogram stepSeconds;
    private final DistributionDataPoint[] phaseSeconds = new DistributionDataPoint[PHASES.length];
    private final Counter steps;
    private final Counter samples;
    private final Counter nonFinite;
    private final Counter dataErrors;
    private final Gauge samplesPerSecond;
    private final Gauge loss;
    private final Gauge step;
    private final Gauge epoch;
    private final Gauge share;
    private final Gauge rank;
    private final Gauge worldSize;
    private final Gauge generation;
    /** The worker actor's phase, read whole at scrape time; null before the first. */
    private volatile Enum<?> phase;

    /**
     * @param workerId    the id the worker registers with (label {@code worker})
     * @param device      its device, e.g. {@code cpu} or {@code cuda:0} (label {@code device})
     * @param host        its host (on {@code clmr_worker_info})
     * @param collectives the process's collective counters (cumulative over generations), or null
     * @param memory      the device's memory, or null
     */
    public WorkerMetrics(String workerId, String device, String host, CollectiveMetrics collectives,
                         DeviceMemory memory) {
        Labels id = Labels.of("worker", workerId, "device", device);
        Info.builder().name("clmr_worker_info").help("1 per worker process: its host and clmr version")
                .constLabels(id).labelNames("host", "version").register(registry)
                .addLabelValues(host, BuildInfo.version());
        stepSeconds = Histogram.builder().name("clmr_worker_step_seconds")
                .help("Wall time of a training step on this worker (all phases)").constLabels(id)
                .classicOnly().classicExponentialUpperBounds(0.001, 2, 17).register(registry);
        Histogram phases = Histogram.builder().name("clmr_worker_step_phase_seconds")
                .help("Time of each phase of a training step: data (waiting for the batch), forward, loss, "
                        + "communication (inside collectives, waiting for the slowest rank included), backward, "
                        + "optimizer").constLabels(id).labelNames("phase")
                .classicOnly().classicExponentialUpperBounds(0.001, 2, 17).register(registry);
        for (int i = 0; i < PHASES.length; i++) {
            phaseSeconds[i] = phases.labelValues(PHASES[i]);
        }
        steps = Counter.builder().name("clmr_worker_steps_total").help("Training steps completed (applied or skipped)")
                .constLabels(id).register(registry);
        samples = Counter.builder().name("clmr_worker_samples_total")
                .help("Tracks of the global batch this worker trained (its shares summed over steps)")
                .constLabels(id).register(registry);
        nonFinite = Counter.builder().name("clmr_worker_nonfinite_steps_total")
                .help("Steps skipped because the loss or a gradient was not finite").constLabels(id).register(registry);
        dataErrors = Counter.builder().name("clmr_worker_data_errors_total")
                .help("Batches whose reading or augmentation failed").constLabels(id).register(registry);
        samplesPerSecond = gauge("clmr_worker_samples_per_second", "Tracks per second of this worker's last step", id);
        loss = gauge("clmr_worker_loss", "Global NT-Xent loss of the last step (the same on every member)", id);
        step = gauge("clmr_worker_step", "Global index of the last step completed", id);
        epoch = gauge("clmr_worker_epoch", "Epoch of the last step completed", id);
        share = gauge("clmr_worker_share_tracks", "This worker's share of the global batch in its generation", id);
        rank = gauge("clmr_worker_rank", "This worker's rank in its generation (-1 before the first)", id);
        worldSize = gauge("clmr_worker_world_size", "Members of this worker's generation", id);
        generation = gauge("clmr_worker_generation", "Membership generation this worker trains in (-1 before the first)", id);
        // a callback over one reference: a scrape sees exactly one phase at 1, never one between two label updates
        GaugeWithCallback.builder().name("clmr_worker_phase").help("1 for the worker actor's current phase")
                .constLabels(id).labelNames("phase").callback(cb -> {
                    Enum<?> current = phase;
                    if (current != null) {
                        for (Enum<?> p : current.getDeclaringClass().getEnumConstants()) {
                            cb.call(p == current ? 1 : 0, p.name().toLowerCase(java.util.Locale.ROOT));
                        }
                    }
                }).register(registry);
        rank.set(-1);
        generation.set(-1);
        if (collectives != null) {
            registerCollectives(collectives, id);
        }
        if (memory != null) {
            registerMemory(memory, id);
        }
    }

    /** Metrics of an unnamed worker without collectives or memory, in a registry nobody serves (tests, defaults). */
    public static WorkerMetrics standalone() {
        return new WorkerMetrics("", "", "", null, null);
    }

    private Gauge gauge(String name, String help, Labels id) {
        return Gauge.builder().name(name).help(help).constLabels(id).register(registry);
    }

    private void registerCollectives(CollectiveMetrics m, Labels id) {
        counter("clmr_worker_collective_timeouts_total",
                "Collective operations that failed on their deadline or on a lost peer", id,
                () -> m.snapshot().timeouts());
        counter("clmr_worker_collective_frames_dropped_total",
                "Frames of another run, an older generation or an abandoned operation, dropped", id,
                () -> m.snapshot().staleDropped());
        counter("clmr_worker_collective_crc_failures_total", "Authenticated frames whose payload failed its CRC32C", id,
                () -> m.snapshot().crcFailures());
        counter("clmr_worker_collective_malformed_frames_total",
                "Frames that failed structural validation or disagreed on the operation", id,
                () -> m.snapshot().malformed());
        CounterWithCallback.builder().name("clmr_worker_collective_frames_rejected_total")
                .help("Collective frames dropped unused, by reason: malformed, other_run, other_generation, stale_op,"
                        + " bad_mac (failed the generation key's MAC), ahead, mismatch, crc; none fails an operation")
                .constLabels(id).labelNames("reason")
                .callback(cb -> m.snapshot().rejected().forEach((reason, n) -> cb.call(n, reason))).register(registry);
        counter("clmr_worker_collective_peers_lost_total", "Peers whose Aeron connection went down", id,
                () -> m.snapshot().peersLost());
        counter("clmr_worker_collective_operations_total", "Collective operations completed", id,
                () -> m.snapshot().operations());
        counter("clmr_worker_aeron_client_reopened_total",
                "Aeron clients that closed themselves on a starved host and were reopened", id, m::clientsReopened);
        CounterWithCallback.builder().name("clmr_worker_collective_bytes_total")
                .help("Payload bytes of collective frames, sent and accepted").constLabels(id).labelNames("direction")
                .callback(cb -> {
                    CollectiveMetrics.Snapshot s = m.snapshot();
                    cb.call(s.bytesSent(), "sent");
                    cb.call(s.bytesReceived(), "received");
                }).register(registry);
        CounterWithCallback.builder().name("clmr_worker_collective_frames_total")
                .help("Collective frames sent and accepted").constLabels(id).labelNames("direction")
                .callback(cb -> {
                    CollectiveMetrics.Snapshot s = m.snapshot();
                    cb.call(s.framesSent(), "sent");
                    cb.call(s.framesReceived(), "received");
                }).register(registry);
    }

    private void counter(String name, String help, Labels id, Supplier<Long> value) {
        CounterWithCallback.builder().name(name).help(help).constLabels(id)
                .callback(cb -> cb.call(value.get())).register(registry);
    }

    private void registerMemory(DeviceMemory memory, Labels id) {
        String what = memory.isGpu() ? "CUDA device memory in use (all processes on the GPU)"
                : "resident memory of this process (CPU: the tensors live in native memory)";
        memoryGauge("clmr_worker_device_memory_used_bytes", "Device memory in use: " + what, id, memory::usedBytes);
        memoryGauge("clmr_worker_device_memory_total_bytes",
                "Device memory in all (CPU: the machine's physical memory)", id, memory::totalBytes);
    }

    private void memoryGauge(String name, String help, Labels id, Supplier<OptionalLong> value) {
        GaugeWithCallback.builder().name(name).help(help).constLabels(id)
                .callback(cb -> {
                    OptionalLong v = value.get();
                    if (v.isPresent()) {
                        cb.call(v.getAsLong());
                    }
                }).register(registry);
    }

    /** The registry to expose. */
    public PrometheusRegistry registry() {
        return registry;
    }

    /** A generation was adopted: this worker is {@code rank} of {@code worldSize} with {@code share} tracks. */
    public void generation(long generation, int rank, int worldSize, int share) {
        this.generation.set(generation);
        this.rank.set(rank);
        this.worldSize.set(worldSize);
        this.share.set(share);
    }

    /**
     * A step completed.
     *
     * @param globalStep the number of steps done after it
     * @param epoch      its epoch
     * @param share      tracks this worker trained in it
     * @param seconds    its wall time on this worker
     */
    public void step(long globalStep, int epoch, int share, DistributedStep.Result result, double seconds) {
        DistributedStep.Phases p = result.phases();
        long[] ns = {p.dataNs(), p.forwardNs(), p.lossNs(), p.communicationNs(), p.backwardNs(), p.optimizerNs()};
        for (int i = 0; i < ns.length; i++) {
            phaseSeconds[i].observe(Math.max(0, ns[i]) / 1e9);
        }
        stepSeconds.observe(seconds);
        steps.inc();
        samples.inc(share);
        if (!result.applied()) {
            nonFinite.inc();
        }
        samplesPerSecond.set(share / Math.max(seconds, 1e-9));
        loss.set(result.loss());
        step.set(globalStep);
        this.epoch.set(epoch);
    }

    /**
     * The worker's phase is now {@code current}: its gauge is 1, every other constant of its enum 0.
     * Called by the worker actor at its one phase transition point.
     */
    public <E extends Enum<E>> void phase(E current) {
        phase = current;
    }

    /** A batch could not be read or augmented. */
    public void dataError() {
        dataErrors.inc();
    }

    /** {@code loader}, counting the batches it fails to load (the failure still propagates). */
    public DistributedStep.ShareLoader countingDataErrors(DistributedStep.ShareLoader loader) {
        return (offset, count) -> {
            try {
                return loader.load(offset, count);
            } catch (RuntimeException e) {
                dataError();
                throw e;
            }
        };
    }
}

package org.clmr.ops.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.clmr.worker.step.DistributedStep;
import org.clmr.worker.step.DistributedStep.Phases;

/**
 * One rank's timed steps in {@code clmr bench step}: the fastest step's phases and the least CPU time of a
 * step (other load only adds time) and, per step on average, what it moved and how long the training thread
 * waited for the collectives. Filled by the rank's thread, read after it is joined.
 */
final class StepFigures {
    private Phases best;
    private long leastCpuNs = Long.MAX_VALUE;
    private long communicationNs;
    private long totalNs;
    private long transfers;
    private long transferBytes;
    private long collectives;
    private long batchNormCollectives;
    private long buckets;
    private long busyNs;
    private int steps;

    /**
     * Adds one timed step.
     *
     * @param cpuNs the CPU time the step took on the rank's thread and its communication thread
     */
    void add(DistributedStep.Result r, long cpuNs) {
        leastCpuNs = Math.min(leastCpuNs, cpuNs);
        Phases p = r.phases();
        if (best == null || p.totalNs() < best.totalNs()) {
            best = p;
        }
        communicationNs += p.communicationNs();
        totalNs += p.totalNs();
        DistributedStep.Traffic t = r.traffic();
        transfers += t.transfers();
        transferBytes += t.transferBytes();
        collectives += t.collectives();
        batchNormCollectives += t.batchNormCollectives();
        buckets += t.buckets();
        busyNs += t.communicationBusyNs();
        steps++;
    }

    /** The fastest step's phases. */
    Phases best() {
        return best;
    }

    /** The least CPU time of a step, milliseconds: other processes' load shows there much less than on the wall clock. */
    double leastCpuMs() {
        return leastCpuNs / 1e6;
    }

    /** Share of the timed steps' time the training thread waited in collectives, percent. */
    double exposedPercent() {
        return totalNs == 0 ? 0 : 100.0 * communicationNs / totalNs;
    }

    double transfersPerStep() {
        return transfers / (double) steps;
    }

    double transferBytesPerStep() {
        return transferBytes / (double) steps;
    }

    double smallCollectivesPerStep() {
        return batchNormCollectives / (double) steps;
    }

    /** Writes the per-step figures into {@code o}. */
    void write(ObjectNode o) {
        o.put("transfers_per_step", transfersPerStep());
        o.put("transfer_bytes_per_step", transferBytesPerStep());
        o.put("collectives_per_step", collectives / (double) steps);
        o.put("small_collectives_per_step", smallCollectivesPerStep());
        o.put("buckets_per_step", buckets / (double) steps);
        o.put("exposed_communication_percent", exposedPercent());
        o.put("communication_thread_busy_ms_per_step", busyNs / 1e6 / steps);
    }

    /** One line for the table. */
    String line() {
        return String.format(java.util.Locale.ROOT, "%.1f transfers (%.2f MB), %.1f collectives of which %.1f"
                        + " batch-norm and %.1f buckets, communication thread busy %.1f ms, exposed %.1f%% of the step",
                transfersPerStep(), transferBytesPerStep() / 1e6, collectives / (double) steps,
                smallCollectivesPerStep(), buckets / (double) steps, busyNs / 1e6 / steps, exposedPercent());
    }
}

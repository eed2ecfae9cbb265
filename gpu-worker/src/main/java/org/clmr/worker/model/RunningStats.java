package org.clmr.worker.model;

import java.util.ArrayList;
import java.util.List;

/**
 * A copy of every batch-norm layer's running statistics (means, variances, batches tracked), to put back
 * when a step is skipped or fails: a training forward updates them before the step knows whether it will
 * be applied. Training thread only.
 */
public final class RunningStats {
    private final List<float[]> stats = new ArrayList<>();
    private final long[] tracked;

    private RunningStats(ClmrNetwork network) {
        tracked = new long[network.segments().size()];
        for (ConvBnSegment s : network.segments()) {
            stats.add(s.runningMean().clone());
            stats.add(s.runningVar().clone());
            tracked[s.index()] = s.batchesTracked();
        }
    }

    /** The network's running statistics now. */
    public static RunningStats save(ClmrNetwork network) {
        return new RunningStats(network);
    }

    /** Puts the saved statistics back into {@code network} (the one they were saved from). */
    public void restore(ClmrNetwork network) {
        int i = 0;
        for (ConvBnSegment s : network.segments()) {
            System.arraycopy(stats.get(i++), 0, s.runningMean(), 0, s.outChannels());
            System.arraycopy(stats.get(i++), 0, s.runningVar(), 0, s.outChannels());
            s.setBatchesTracked(tracked[s.index()]);
        }
    }
}

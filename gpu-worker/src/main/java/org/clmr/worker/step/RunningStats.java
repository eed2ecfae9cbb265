package org.clmr.worker.step;

import org.clmr.worker.model.ClmrNetwork;
import org.clmr.worker.model.ConvBnSegment;

import java.util.ArrayList;
import java.util.List;

/** A copy of every batch-norm layer's running statistics, to put back when a step is skipped. */
final class RunningStats {
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

    static RunningStats save(ClmrNetwork network) {
        return new RunningStats(network);
    }

    void restore(ClmrNetwork network) {
        int i = 0;
        for (ConvBnSegment s : network.segments()) {
            System.arraycopy(stats.get(i++), 0, s.runningMean(), 0, s.outChannels());
            System.arraycopy(stats.get(i++), 0, s.runningVar(), 0, s.outChannels());
            s.setBatchesTracked(tracked[s.index()]);
        }
    }
}

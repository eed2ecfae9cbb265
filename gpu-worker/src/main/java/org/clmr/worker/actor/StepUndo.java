package org.clmr.worker.actor;

import org.clmr.worker.model.Adam;
import org.clmr.worker.model.ClmrNetwork;
import org.clmr.worker.model.ConvBnSegment;

import java.util.ArrayList;
import java.util.List;

/**
 * What an abandoned step (a collective failed half-way) leaves behind and must be undone before the
 * next generation: batch-norm running statistics the forward pass already updated, and gradients a
 * partial backward pass accumulated. Weights and Adam moments change only after the last collective,
 * so they need no copy. Training thread only.
 */
final class StepUndo {
    private final List<float[]> stats = new ArrayList<>();
    private final long[] tracked;

    private StepUndo(ClmrNetwork network) {
        tracked = new long[network.segments().size()];
        int i = 0;
        for (ConvBnSegment s : network.segments()) {
            stats.add(s.runningMean().clone());
            stats.add(s.runningVar().clone());
            tracked[i++] = s.batchesTracked();
        }
    }

    static StepUndo save(ClmrNetwork network) {
        return new StepUndo(network);
    }

    void restore(ClmrNetwork network) {
        int i = 0;
        int k = 0;
        for (ConvBnSegment s : network.segments()) {
            System.arraycopy(stats.get(i++), 0, s.runningMean(), 0, s.outChannels());
            System.arraycopy(stats.get(i++), 0, s.runningVar(), 0, s.outChannels());
            s.setBatchesTracked(tracked[k++]);
        }
        Adam.zeroGradients(network.params());
    }
}

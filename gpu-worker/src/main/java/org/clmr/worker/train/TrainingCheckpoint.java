package org.clmr.worker.train;

import org.clmr.protocol.checkpoint.CheckpointCorruptException;
import org.clmr.protocol.checkpoint.CheckpointPayload;
import org.clmr.protocol.run.RunSpec;
import org.clmr.worker.model.ClmrNetwork;
import org.clmr.worker.model.ModelCheckpoint;
import org.clmr.worker.optim.Adam;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A whole training state as a {@link CheckpointPayload}: the model's part ({@link ModelCheckpoint}: weights,
 * running statistics, batches tracked), the optimizer's ({@link Adam}: moments, step count), the run's
 * identity (RunSpec and its hash, config hash) and the loop's counters. Training thread only.
 */
public final class TrainingCheckpoint {
    private TrainingCheckpoint() {
    }

    /** The state after {@code step} steps, the last of them in {@code epoch}. */
    public static CheckpointPayload capture(ClmrNetwork net, Adam adam, RunSpec spec, String configHash, int epoch,
                                            long step, Map<String, Long> extraCounters) {
        List<CheckpointPayload.Tensor> tensors = new ArrayList<>(ModelCheckpoint.weights(net));
        tensors.addAll(adam.checkpointTensors());
        Map<String, Long> counters = new TreeMap<>(extraCounters);
        counters.put(Adam.STEP_COUNTER, adam.step());
        counters.putAll(ModelCheckpoint.counters(net));
        return new CheckpointPayload(epoch, step, spec.canonicalJson(), spec.hash(), configHash, counters, tensors);
    }

    /**
     * Loads weights, running statistics and the optimizer's state.
     *
     * @throws CheckpointCorruptException when a tensor or counter is missing or a tensor has another shape;
     *                                    the network and optimizer may then be partly overwritten
     */
    public static void restore(CheckpointPayload payload, ClmrNetwork net, Adam adam) {
        ModelCheckpoint.restore(payload, net);
        adam.restore(payload);
    }
}

package org.clmr.worker.model;

import ai.djl.ndarray.NDArray;
import org.clmr.protocol.checkpoint.CheckpointCorruptException;
import org.clmr.protocol.checkpoint.CheckpointPayload;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The model's part of a {@link CheckpointPayload}: weights and batch-norm running statistics under the
 * reference state-dict names, and the counters {@code <prefix>.1.num_batches_tracked}. The optimizer's
 * part is the optimizer's ({@code org.clmr.worker.optim.Adam}); a whole training state is assembled by
 * the training loop. Training thread only (it reads and writes the network's tensors).
 */
public final class ModelCheckpoint {
    private ModelCheckpoint() {
    }

    /** Weights and running statistics in the reference state-dict order (what export writes). */
    public static List<CheckpointPayload.Tensor> weights(ClmrNetwork net) {
        List<CheckpointPayload.Tensor> tensors = new ArrayList<>();
        for (ConvBnSegment s : net.segments()) {
            for (Param p : s.params()) {
                tensors.add(tensor(p.name(), p.value()));
            }
            long[] c = {s.outChannels()};
            tensors.add(new CheckpointPayload.Tensor(s.prefix() + ".1.running_mean", c, s.runningMean().clone()));
            tensors.add(new CheckpointPayload.Tensor(s.prefix() + ".1.running_var", c, s.runningVar().clone()));
        }
        for (Param p : net.headParams()) {
            tensors.add(tensor(p.name(), p.value()));
        }
        return tensors;
    }

    /** Every batch-norm layer's batches-tracked counter, by name. */
    public static Map<String, Long> counters(ClmrNetwork net) {
        Map<String, Long> counters = new TreeMap<>();
        for (ConvBnSegment s : net.segments()) {
            counters.put(s.prefix() + ".1.num_batches_tracked", s.batchesTracked());
        }
        return counters;
    }

    /**
     * Loads weights and running statistics.
     *
     * @throws CheckpointCorruptException when a tensor or counter is missing or a tensor has another shape
     */
    public static void restore(CheckpointPayload payload, ClmrNetwork net) {
        Map<String, CheckpointPayload.Tensor> byName = payload.tensorsByName();
        for (Param p : net.params()) {
            load(byName, p.name(), p.value());
        }
        for (ConvBnSegment s : net.segments()) {
            float[] rm = find(byName, s.prefix() + ".1.running_mean", new long[] {s.outChannels()}).data();
            float[] rv = find(byName, s.prefix() + ".1.running_var", new long[] {s.outChannels()}).data();
            System.arraycopy(rm, 0, s.runningMean(), 0, rm.length);
            System.arraycopy(rv, 0, s.runningVar(), 0, rv.length);
            s.setBatchesTracked(payload.counter(s.prefix() + ".1.num_batches_tracked"));
        }
    }

    /**
     * Overwrites {@code target} with the tensor {@code name} of a payload.
     *
     * @throws CheckpointCorruptException when it is missing or has another shape than {@code target}
     */
    public static void load(Map<String, CheckpointPayload.Tensor> byName, String name, NDArray target) {
        Tensors.overwrite(target, find(byName, name, target.getShape().getShape()).data());
    }

    /** A tensor's values as a checkpoint tensor. */
    public static CheckpointPayload.Tensor tensor(String name, NDArray a) {
        return new CheckpointPayload.Tensor(name, a.getShape().getShape(), Tensors.downloadFloats(a));
    }

    private static CheckpointPayload.Tensor find(Map<String, CheckpointPayload.Tensor> byName, String name, long[] shape) {
        CheckpointPayload.Tensor t = byName.get(name);
        if (t == null) {
            throw new CheckpointCorruptException("checkpoint lacks tensor " + name);
        }
        if (!java.util.Arrays.equals(t.shape(), shape)) {
            throw new CheckpointCorruptException("checkpoint tensor " + name + " has shape "
                    + java.util.Arrays.toString(t.shape()) + ", the model needs " + java.util.Arrays.toString(shape));
        }
        return t;
    }
}

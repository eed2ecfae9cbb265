package org.clmr.worker.model;

import ai.djl.ndarray.NDArray;
import org.clmr.protocol.checkpoint.CheckpointCorruptException;
import org.clmr.protocol.checkpoint.CheckpointPayload;
import org.clmr.protocol.run.RunSpec;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Maps a network and its optimizer to and from the engine-neutral {@link CheckpointPayload}. Tensor
 * names: the reference state-dict names for weights and running statistics, {@code adam.exp_avg.<name>}
 * and {@code adam.exp_avg_sq.<name>} for the moments; counters {@code adam.step} and
 * {@code <prefix>.1.num_batches_tracked}.
 */
public final class ModelCheckpoint {
    /** Counter holding Adam's step count. */
    public static final String ADAM_STEP = "adam.step";

    private ModelCheckpoint() {
    }

    /** The full training state after {@code step} steps. */
    public static CheckpointPayload capture(ClmrNetwork net, Adam adam, RunSpec spec, String configHash, int epoch,
                                            long step, Map<String, Long> extraCounters) {
        List<CheckpointPayload.Tensor> tensors = new ArrayList<>(weights(net));
        List<Param> params = net.params();
        for (int i = 0; i < params.size(); i++) {
            tensors.add(tensor("adam.exp_avg." + params.get(i).name(), adam.expAvg().get(i)));
        }
        for (int i = 0; i < params.size(); i++) {
            tensors.add(tensor("adam.exp_avg_sq." + params.get(i).name(), adam.expAvgSq().get(i)));
        }
        Map<String, Long> counters = new TreeMap<>(extraCounters);
        counters.put(ADAM_STEP, adam.step());
        for (ConvBnSegment s : net.segments()) {
            counters.put(s.prefix() + ".1.num_batches_tracked", s.batchesTracked());
        }
        return new CheckpointPayload(epoch, step, spec.canonicalJson(), spec.hash(), configHash, counters, tensors);
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

    /**
     * Loads weights, running statistics and (when {@code adam} is not null) the optimizer's state.
     *
     * @throws CheckpointCorruptException when a tensor is missing or has another shape
     */
    public static void restore(CheckpointPayload payload, ClmrNetwork net, Adam adam) {
        Map<String, CheckpointPayload.Tensor> byName = payload.tensorsByName();
        List<Param> params = net.params();
        for (int i = 0; i < params.size(); i++) {
            Param p = params.get(i);
            load(byName, p.name(), p.value());
            if (adam != null) {
                load(byName, "adam.exp_avg." + p.name(), adam.expAvg().get(i));
                load(byName, "adam.exp_avg_sq." + p.name(), adam.expAvgSq().get(i));
            }
        }
        for (ConvBnSegment s : net.segments()) {
            float[] rm = find(byName, s.prefix() + ".1.running_mean", new long[] {s.outChannels()}).data();
            float[] rv = find(byName, s.prefix() + ".1.running_var", new long[] {s.outChannels()}).data();
            System.arraycopy(rm, 0, s.runningMean(), 0, rm.length);
            System.arraycopy(rv, 0, s.runningVar(), 0, rv.length);
            s.setBatchesTracked(payload.counter(s.prefix() + ".1.num_batches_tracked"));
        }
        if (adam != null) {
            adam.setStep(payload.counter(ADAM_STEP));
        }
    }

    private static void load(Map<String, CheckpointPayload.Tensor> byName, String name, NDArray target) {
        Tensors.overwrite(target, find(byName, name, target.getShape().getShape()).data());
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

    private static CheckpointPayload.Tensor tensor(String name, NDArray a) {
        return new CheckpointPayload.Tensor(name, a.getShape().getShape(), a.toFloatArray());
    }
}

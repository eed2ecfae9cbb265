package org.clmr.worker.optim;

import ai.djl.ndarray.NDArray;
import org.clmr.protocol.checkpoint.CheckpointCorruptException;
import org.clmr.protocol.checkpoint.CheckpointPayload;
import org.clmr.protocol.run.OptimizerSpec;
import org.clmr.worker.model.Gradients;
import org.clmr.worker.model.ModelCheckpoint;
import org.clmr.worker.model.Param;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Adam with bias correction, step for step as {@code torch.optim.Adam} (single-tensor path, no weight
 * decay, no amsgrad): m = lerp(m, g, 1 - b1); v = b2 v + (1 - b2) g^2;
 * p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). Consumes and zeroes the parameters'
 * gradients. Must be called with autograd recording off (outside the gradient collector). Its part of a
 * checkpoint: tensors {@code adam.exp_avg.<param>} and {@code adam.exp_avg_sq.<param>}, counter
 * {@value #STEP_COUNTER}. Training thread only.
 */
public final class Adam implements AutoCloseable {
    /** The checkpoint counter holding Adam's step count. */
    public static final String STEP_COUNTER = "adam.step";

    private final OptimizerSpec spec;
    private final List<Param> params;
    private final List<NDArray> expAvg = new ArrayList<>();
    private final List<NDArray> expAvgSq = new ArrayList<>();
    private long step;

    /** Zero moments for every parameter, in the params' order. */
    public Adam(OptimizerSpec spec, List<Param> params) {
        this.spec = spec;
        this.params = List.copyOf(params);
        for (Param p : params) {
            expAvg.add(p.value().zerosLike());
            expAvgSq.add(p.value().zerosLike());
        }
    }

    /** Updates taken so far (torch's per-parameter {@code step}, the same for all). */
    public long step() {
        return step;
    }

    public void setStep(long step) {
        this.step = step;
    }

    /** First moments, in the params' order (live arrays). */
    public List<NDArray> expAvg() {
        return expAvg;
    }

    /** Second moments, in the params' order (live arrays). */
    public List<NDArray> expAvgSq() {
        return expAvgSq;
    }

    /** One update from the accumulated gradients, which are then zeroed. */
    public void update() {
        step++;
        double b1 = spec.beta1();
        double b2 = spec.beta2();
        double stepSize = spec.learningRate() / (1 - Math.pow(b1, step));
        double bc2Sqrt = Math.sqrt(1 - Math.pow(b2, step));
        for (int i = 0; i < params.size(); i++) {
            NDArray p = params.get(i).value();
            NDArray m = expAvg.get(i);
            NDArray v = expAvgSq.get(i);
            try (NDArray g = p.getGradient();
                 NDArray diff = g.sub(m);
                 NDArray gg = g.mul(g)) {
                m.addi(diff.muli(1 - b1));
                v.muli(b2).addi(gg.muli(1 - b2));
                try (NDArray denom = v.sqrt(); NDArray ratio = m.div(denom.divi(bc2Sqrt).addi(spec.epsilon()))) {
                    p.subi(ratio.muli(stepSize));
                }
            }
        }
        Gradients.zero(params);
    }

    /** The moments as checkpoint tensors: every first moment in the params' order, then every second. */
    public List<CheckpointPayload.Tensor> checkpointTensors() {
        List<CheckpointPayload.Tensor> tensors = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) {
            tensors.add(ModelCheckpoint.tensor("adam.exp_avg." + params.get(i).name(), expAvg.get(i)));
        }
        for (int i = 0; i < params.size(); i++) {
            tensors.add(ModelCheckpoint.tensor("adam.exp_avg_sq." + params.get(i).name(), expAvgSq.get(i)));
        }
        return tensors;
    }

    /**
     * Loads the moments and the step count of a checkpoint.
     *
     * @throws CheckpointCorruptException when a moment or the step counter is missing or a moment has
     *                                    another shape than its parameter
     */
    public void restore(CheckpointPayload payload) {
        Map<String, CheckpointPayload.Tensor> byName = payload.tensorsByName();
        for (int i = 0; i < params.size(); i++) {
            ModelCheckpoint.load(byName, "adam.exp_avg." + params.get(i).name(), expAvg.get(i));
            ModelCheckpoint.load(byName, "adam.exp_avg_sq." + params.get(i).name(), expAvgSq.get(i));
        }
        step = payload.counter(STEP_COUNTER);
    }

    @Override
    public void close() {
        expAvg.forEach(NDArray::close);
        expAvgSq.forEach(NDArray::close);
    }
}

package org.clmr.worker.model;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import org.clmr.protocol.run.OptimizerSpec;

import java.util.ArrayList;
import java.util.List;

/**
 * Adam with bias correction, step for step as {@code torch.optim.Adam} (single-tensor path, no weight
 * decay, no amsgrad): m = lerp(m, g, 1 - b1); v = b2 v + (1 - b2) g^2;
 * p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). Consumes and zeroes the parameters'
 * gradients. Must be called with autograd recording off (outside the gradient collector). Training
 * thread only.
 */
public final class Adam implements AutoCloseable {
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
        zeroGradients(params);
    }

    /** Sets every parameter's gradient to zero (also when it holds NaN or infinity). */
    public static void zeroGradients(List<Param> params) {
        for (Param p : params) {
            JniUtils.zeroGrad((PtNDArray) p.value());
        }
    }

    @Override
    public void close() {
        expAvg.forEach(NDArray::close);
        expAvgSq.forEach(NDArray::close);
    }
}

package org.clmr.worker.reference;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.clmr.worker.loss.DeviceNtXent;
import org.clmr.worker.model.BatchStats;
import org.clmr.worker.model.ClmrNetwork;
import org.clmr.worker.model.Gradients;
import org.clmr.worker.model.RunningStats;
import org.clmr.worker.model.Tensors;
import org.clmr.worker.optim.Adam;

import java.util.List;

/**
 * The single-process reference of a CLMR training step, top to bottom: two views -> segmented forward,
 * view after view -> z -> NT-Xent (loss and dL/dz) -> segmented backward, view after view -> finite check
 * -> Adam. Training never runs it (every process trains with {@code org.clmr.worker.step.DistributedStep},
 * one rank or many, which takes both views through a segment together): the tests prove the distributed
 * step computes exactly this with one rank, and {@code clmr bench model} times it against PyTorch. A
 * non-finite loss or gradient skips the update and leaves weights, moments and running statistics as they
 * were. Training thread only (it opens the JVM's one gradient collector for the duration of the forward and
 * backward passes).
 */
public final class ClmrStep {
    private final ClmrNetwork network;
    private final Adam adam;
    private final double temperature;

    public ClmrStep(ClmrNetwork network, Adam adam, double temperature) {
        this.network = network;
        this.adam = adam;
        this.temperature = temperature;
    }

    /**
     * What a step did.
     *
     * @param loss       the global NT-Xent loss (NaN/inf when skipped for it)
     * @param applied    whether the weights were updated
     * @param skipReason why not, or null
     * @param forwardNs  time in both views' forward passes
     * @param lossNs     time in NT-Xent
     * @param backwardNs time in both backward passes and the finite check
     * @param updateNs   time in Adam
     */
    public record Result(double loss, boolean applied, String skipReason, long forwardNs, long lossNs,
                         long backwardNs, long updateNs) {
    }

    /**
     * Runs one step on a batch of view pairs.
     *
     * @param first  B first views, [B, L] row-major
     * @param second their second views, same layout
     */
    public Result run(int batch, int length, float[] first, float[] second) {
        RunningStats saved = RunningStats.save(network);
        long t0 = System.nanoTime();
        long t1;
        long t2;
        long t3;
        double loss;
        try (NDManager scope = network.manager().newSubManager();
             GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
            List<NDArray> x = Tensors.uploadRows(scope, List.of(first, second), new Shape(batch, 1, length));
            ClmrNetwork.ViewTape v1 = network.forwardTrain(x.get(0), 0, BatchStats.LOCAL);
            ClmrNetwork.ViewTape v2 = network.forwardTrain(x.get(1), 1, BatchStats.LOCAL);
            t1 = System.nanoTime();
            DeviceNtXent.Views l = DeviceNtXent.ofViews(v1.z, v2.z, temperature);  // all 2B rows are anchors
            loss = l.loss();
            t2 = System.nanoTime();
            if (!Double.isFinite(loss)) {
                saved.restore(network);
                return new Result(loss, false, "non-finite loss " + loss, t1 - t0, t2 - t1, 0, 0);
            }
            network.backward(v1, l.gradients().get(0), BatchStats.LOCAL);
            network.backward(v2, l.gradients().get(1), BatchStats.LOCAL);
        }
        String bad = Gradients.firstNonFinite(network.params());
        t3 = System.nanoTime();
        if (bad != null) {
            Gradients.zero(network.params());
            saved.restore(network);
            return new Result(loss, false, "non-finite gradient in " + bad, t1 - t0, t2 - t1, t3 - t2, 0);
        }
        adam.update();
        return new Result(loss, true, null, t1 - t0, t2 - t1, t3 - t2, System.nanoTime() - t3);
    }
}

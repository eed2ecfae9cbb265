package org.clmr.worker.reference;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.clmr.worker.loss.NtXent;
import org.clmr.worker.model.BatchStats;
import org.clmr.worker.model.ClmrNetwork;
import org.clmr.worker.model.Gradients;
import org.clmr.worker.model.RunningStats;
import org.clmr.worker.model.Tensors;
import org.clmr.worker.optim.Adam;

import java.util.Arrays;

/**
 * The single-process reference of a CLMR training step, top to bottom: two views -> segmented forward ->
 * z -> NT-Xent (loss and dL/dz) -> segmented backward -> finite check -> Adam. Training never runs it
 * (every process trains with {@code org.clmr.worker.step.DistributedStep}, one rank or many): the tests
 * prove the distributed step computes exactly this with one rank, and {@code clmr bench model} times it
 * against PyTorch. A non-finite loss or gradient skips the update and leaves weights, moments and running
 * statistics as they were. Training thread only (it opens the JVM's one gradient collector for the
 * duration of the forward and backward passes).
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
            Shape shape = new Shape(batch, 1, length);
            ClmrNetwork.ViewTape v1 = network.forwardTrain(Tensors.upload(scope, first, shape), 0, BatchStats.LOCAL);
            ClmrNetwork.ViewTape v2 = network.forwardTrain(Tensors.upload(scope, second, shape), 1, BatchStats.LOCAL);
            t1 = System.nanoTime();
            int dim = Math.toIntExact(v1.z.getShape().get(1));
            float[] z = concat(v1.z.toFloatArray(), v2.z.toFloatArray());     // [2B, d]: views 1 then views 2
            int[] anchors = new int[2 * batch];
            for (int i = 0; i < anchors.length; i++) {
                anchors[i] = i;
            }
            NtXent.Result r = NtXent.compute(z, dim, anchors, NtXent.pairedPositives(new int[] {batch}),
                    2 * batch, temperature);
            loss = r.loss();
            t2 = System.nanoTime();
            if (!Double.isFinite(loss)) {
                saved.restore(network);
                return new Result(loss, false, "non-finite loss " + loss, t1 - t0, t2 - t1, 0, 0);
            }
            int half = batch * dim;
            float[] g = r.gradient();
            network.backward(v1, Tensors.upload(scope, Arrays.copyOfRange(g, 0, half), new Shape(batch, dim)),
                    BatchStats.LOCAL);
            network.backward(v2, Tensors.upload(scope, Arrays.copyOfRange(g, half, 2 * half), new Shape(batch, dim)),
                    BatchStats.LOCAL);
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

    private static float[] concat(float[] a, float[] b) {
        float[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}

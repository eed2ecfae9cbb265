package org.clmr.worker.step;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import org.clmr.protocol.run.Shares;
import org.clmr.worker.collective.Collective;
import org.clmr.worker.loss.NtXent;
import org.clmr.worker.model.ClmrNetwork;
import org.clmr.worker.model.Gradients;
import org.clmr.worker.model.RunningStats;
import org.clmr.worker.model.Tensors;
import org.clmr.worker.optim.Adam;

import java.util.Arrays;

/**
 * The exact distributed CLMR step of one rank (DESIGN.md, "Distributed semantics"): its result depends
 * only on the global batch and the weights, not on the number of ranks nor on the split.
 * <ol>
 *   <li>shares -> data: this rank's slice [offset, offset + share) of the global batch;</li>
 *   <li>forward, view by view, as segments whose batch norm uses the global moments (all-reduced);</li>
 *   <li>gather z of every rank (rank blocks: first views, then second views);</li>
 *   <li>loss: this rank's 2s anchors against all 2B rows, divided by 2B; its gradient w.r.t. every
 *       gathered row is summed over ranks (reduce-scatter) and this rank keeps its own rows;</li>
 *   <li>backward, segment by segment, with the batch-norm statistics' gradients all-reduced;</li>
 *   <li>parameter gradients summed over ranks (not averaged: the loss is already the global mean), in
 *       rank order, so every rank holds the same bits; Adam.</li>
 * </ol>
 * With one rank it computes exactly what the single-process reference step
 * ({@code org.clmr.worker.reference.ClmrStep}) does, bit for bit. Autograd recording is switched on for
 * the calling thread only (PyTorch's grad mode is thread-local), not through DJL's one-per-JVM gradient
 * collector, so ranks may also run as threads of one JVM. Training thread only.
 */
public final class DistributedStep {
    private final ClmrNetwork network;
    private final Adam adam;
    private final double temperature;
    private final Collective collective;
    private final long generation;

    /** Loads this rank's slice of the global batch. */
    @FunctionalInterface
    public interface ShareLoader {
        /** The view pairs of positions [offsetInBatch, offsetInBatch + count) of the global batch. */
        ViewPairs load(int offsetInBatch, int count);
    }

    /**
     * Where a step's time went, nanoseconds; communication (time inside collectives, waiting for the
     * slowest rank included) is not counted in the other phases.
     */
    public record Phases(long dataNs, long forwardNs, long lossNs, long communicationNs, long backwardNs,
                         long optimizerNs) {
        public long totalNs() {
            return dataNs + forwardNs + lossNs + communicationNs + backwardNs + optimizerNs;
        }
    }

    /**
     * What a step did; identical on every rank.
     *
     * @param loss       the global NT-Xent loss
     * @param applied    whether the weights were updated
     * @param skipReason why not (non-finite loss or gradient), or null
     */
    public record Result(double loss, boolean applied, String skipReason, Phases phases) {
    }

    /** A step whose summed gradients sit in the parameters, before the update. */
    public static final class Pending {
        private final double loss;
        private final String skipReason;
        private final long[] ns;

        private Pending(double loss, String skipReason, long[] ns) {
            this.loss = loss;
            this.skipReason = skipReason;
            this.ns = ns;
        }

        /** The global loss. */
        public double loss() {
            return loss;
        }
    }

    public DistributedStep(ClmrNetwork network, Adam adam, double temperature, Collective collective, long generation) {
        this.network = network;
        this.adam = adam;
        this.temperature = temperature;
        this.collective = collective;
        this.generation = generation;
    }

    /** One whole step: gradients, then the update. */
    public Result run(long step, int[] shares, ShareLoader loader) {
        return apply(computeGradients(step, shares, loader));
    }

    /**
     * Everything up to the update: afterwards every rank's parameters hold the gradient of the global
     * loss (summed over ranks). A non-finite loss skips the backward pass and restores the running
     * statistics; {@link #apply} then reports the skip. If it throws (a collective failed: a peer was
     * silent or lost), weights, gradients and running statistics are as before the step.
     *
     * @param step   the global step index (tags the collective operations; increases step by step)
     * @param shares every rank's share of the global batch, by rank, each >= 1
     */
    public Pending computeGradients(long step, int[] shares, ShareLoader loader) {
        RunningStats saved = RunningStats.save(network);
        try {
            return gradients(step, shares, loader, saved);
        } catch (RuntimeException e) {
            // a failed collective (or anything else) leaves the model as it was before the step
            saved.restore(network);
            Gradients.zero(network.params());
            throw e;
        }
    }

    private Pending gradients(long step, int[] shares, ShareLoader loader, RunningStats saved) {
        int rank = collective.rank();
        int offset = Shares.check(shares, collective.worldSize(), collective.rank(), 1);
        int own = shares[rank];
        int global = Shares.total(shares);
        int length = network.spec().inputLength();
        StepCollective ops = new StepCollective(collective, generation, step);
        long[] ns = new long[6];

        long t0 = System.nanoTime();
        ViewPairs pairs = loader.load(offset, own);
        if (pairs.batch() != own || pairs.length() != length) {
            throw new IllegalStateException("rank " + rank + " loaded " + pairs.batch() + " x " + pairs.length()
                    + " samples, its share is " + own + " x " + length);
        }
        long t1 = System.nanoTime();
        ns[0] = t1 - t0;
        double[] loss = new double[1];
        JniUtils.setGradMode(true);
        try (NDManager scope = network.manager().newSubManager()) {
            Shape shape = new Shape(own, 1, length);
            ClmrNetwork.ViewTape v1 = network.forwardTrain(Tensors.upload(scope, pairs.first(), shape), 0, ops);
            ClmrNetwork.ViewTape v2 = network.forwardTrain(Tensors.upload(scope, pairs.second(), shape), 1, ops);
            int dim = Math.toIntExact(v1.z.getShape().get(1));
            float[] local = concat(v1.z.toFloatArray(), v2.z.toFloatArray());  // [2s, d]: first views, then second
            long t2 = System.nanoTime();
            ns[1] = t2 - t1 - ops.nanos();

            int[] rowCounts = new int[shares.length];
            for (int r = 0; r < shares.length; r++) {
                rowCounts[r] = 2 * shares[r] * dim;
            }
            float[] z = ops.allGather(local, rowCounts);                        // [2B, d] in rank blocks
            long t3 = System.nanoTime();
            int[] anchors = new int[2 * own];
            for (int i = 0; i < anchors.length; i++) {
                anchors[i] = 2 * offset + i;
            }
            NtXent.Result r = NtXent.compute(z, dim, anchors, NtXent.pairedPositives(shares), 2 * global, temperature);
            ns[2] = System.nanoTime() - t3;
            loss[0] = r.loss();
            ops.allReduceSum(loss);
            float[] gradZ = ops.reduceScatterSum(r.gradient(), rowCounts);     // [2s, d]: dL/dz of own rows
            if (!Double.isFinite(loss[0])) {
                saved.restore(network);
                ns[3] = ops.nanos();
                return new Pending(loss[0], "non-finite loss " + loss[0], ns);
            }

            long c2 = ops.nanos();
            long t4 = System.nanoTime();
            int half = own * dim;
            network.backward(v1, Tensors.upload(scope, Arrays.copyOfRange(gradZ, 0, half), new Shape(own, dim)), ops);
            network.backward(v2, Tensors.upload(scope, Arrays.copyOfRange(gradZ, half, 2 * half), new Shape(own, dim)), ops);
            ns[4] = System.nanoTime() - t4 - (ops.nanos() - c2);
        } finally {
            // off, as DJL leaves its main thread (a new thread starts with PyTorch's default: on)
            JniUtils.setGradMode(false);
        }
        if (collective.worldSize() > 1) {
            long t5 = System.nanoTime();
            long c3 = ops.nanos();
            float[] flat = Gradients.flatten(network.params());
            ops.allReduceSum(flat);
            Gradients.overwrite(network.params(), flat);
            ns[4] += System.nanoTime() - t5 - (ops.nanos() - c3);
        }
        ns[3] = ops.nanos();
        return new Pending(loss[0], null, ns);
    }

    /** Checks the summed gradients are finite, then updates the weights (or zeroes the gradients). */
    public Result apply(Pending p) {
        long t = System.nanoTime();
        JniUtils.setGradMode(false);
        String reason = p.skipReason;
        if (reason == null) {
            String bad = Gradients.firstNonFinite(network.params());
            if (bad != null) {
                reason = "non-finite gradient in " + bad;
                Gradients.zero(network.params());
            } else {
                adam.update();
            }
        }
        long[] ns = p.ns;
        Phases phases = new Phases(ns[0], ns[1], ns[2], ns[3], ns[4], System.nanoTime() - t);
        return new Result(p.loss, reason == null, reason, phases);
    }

    private static float[] concat(float[] a, float[] b) {
        float[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}

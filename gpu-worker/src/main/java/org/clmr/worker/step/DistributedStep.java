package org.clmr.worker.step;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import org.clmr.protocol.run.Shares;
import org.clmr.worker.collective.BucketLayout;
import org.clmr.worker.collective.Collective;
import org.clmr.worker.collective.CommThread;
import org.clmr.worker.loss.DeviceNtXent;
import org.clmr.worker.model.ClmrNetwork;
import org.clmr.worker.model.Gradients;
import org.clmr.worker.model.Param;
import org.clmr.worker.model.RunningStats;
import org.clmr.worker.model.Tensors;
import org.clmr.worker.optim.Adam;

import java.util.Arrays;
import java.util.List;

/**
 * The exact distributed CLMR step of one rank (DESIGN.md, "Distributed semantics"): its result depends
 * only on the global batch and the weights, not on the number of ranks nor on the split.
 * <ol>
 *   <li>shares -> data: this rank's slice [offset, offset + share) of the global batch, both views in one
 *       upload;</li>
 *   <li>forward, both views through a segment before the next, batch norm from the global moments (one
 *       all-reduce per layer for both views);</li>
 *   <li>gather z of every rank (rank blocks: first views, then second views);</li>
 *   <li>loss on the device: this rank's 2s anchors against all 2B rows, divided by 2B; its gradient w.r.t.
 *       every gathered row is summed over ranks (reduce-scatter) and this rank keeps its own rows;</li>
 *   <li>backward, segment by segment for both views, the batch-norm statistics' gradients all-reduced (one
 *       per layer); meanwhile the parameter gradients the backward has finished go, in fixed buckets, to a
 *       communication thread that sums them over ranks in rank order, so every rank holds the same bits;</li>
 *   <li>all buckets joined, the finite check, Adam.</li>
 * </ol>
 * With one rank it computes exactly what the single-process reference step
 * ({@code org.clmr.worker.reference.ClmrStep}) does, bit for bit, without collectives or host round trips
 * of the embeddings. Autograd recording is switched on for the calling thread only (PyTorch's grad mode is
 * thread-local), not through DJL's one-per-JVM gradient collector, so ranks may also run as threads of one
 * JVM. Training thread only; the communication thread lives for one step and is joined before it returns.
 */
public final class DistributedStep {
    /** Gradient elements per bucket by default (4 MiB): the paper preset's 2.7 M parameters in three buckets. */
    public static final int DEFAULT_BUCKET_ELEMENTS = 1 << 20;
    private static final int QUEUE = 64;

    private final ClmrNetwork network;
    private final Adam adam;
    private final double temperature;
    private final Collective collective;
    private final long generation;
    private final List<Param> params;
    private final BucketLayout layout;
    private final float[] summed;

    /** Loads this rank's slice of the global batch. */
    @FunctionalInterface
    public interface ShareLoader {
        /** The view pairs of positions [offsetInBatch, offsetInBatch + count) of the global batch. */
        ViewPairs load(int offsetInBatch, int count);
    }

    /**
     * Where a step's time went, nanoseconds; communication (the time the training thread waited for
     * collectives, waiting for the slowest rank included) is not counted in the other phases.
     */
    public record Phases(long dataNs, long forwardNs, long lossNs, long communicationNs, long backwardNs,
                         long optimizerNs) {
        public long totalNs() {
            return dataNs + forwardNs + lossNs + communicationNs + backwardNs + optimizerNs;
        }
    }

    /**
     * What a step moved on this rank.
     *
     * @param transfers           host-device copies of the training thread ({@link Tensors})
     * @param transferBytes       their bytes
     * @param collectives         collective operations issued
     * @param batchNormCollectives of which batch-norm exchanges (the small all-reduces, one per layer and pass)
     * @param buckets             gradient buckets
     * @param communicationBusyNs time the communication thread spent in operations (hidden or not)
     */
    public record Traffic(long transfers, long transferBytes, int collectives, int batchNormCollectives, int buckets,
                          long communicationBusyNs) {
        /** Nothing measured. */
        public static final Traffic NONE = new Traffic(0, 0, 0, 0, 0, 0);
    }

    /**
     * What a step did; identical on every rank but for the phases and the traffic.
     *
     * @param loss           the global NT-Xent loss
     * @param applied        whether the weights were updated
     * @param skipReason     why not (non-finite loss or gradient), or null
     * @param gradientDigest a 64-bit hash (hex) of the summed gradient's bits, equal on every rank; null in
     *                       a world of one (no sum) or when the loss was not finite
     */
    public record Result(double loss, boolean applied, String skipReason, Phases phases, String gradientDigest,
                         Traffic traffic) {
        /** A result without digest or traffic. */
        public Result(double loss, boolean applied, String skipReason, Phases phases) {
            this(loss, applied, skipReason, phases, null, Traffic.NONE);
        }
    }

    /** A step whose summed gradients sit in the parameters, before the update. */
    public static final class Pending {
        private final double loss;
        private final String skipReason;
        private final long[] ns;
        private final Tensors.Count transfersBefore;
        private String digest;
        private boolean checkedOnHost;
        private String nonFinite;
        private int[] operations = new int[3];
        private long busyNs;

        private Pending(double loss, String skipReason, long[] ns, Tensors.Count transfersBefore) {
            this.loss = loss;
            this.skipReason = skipReason;
            this.ns = ns;
            this.transfersBefore = transfersBefore;
        }

        /** The global loss. */
        public double loss() {
            return loss;
        }
    }

    /** A step with {@link #DEFAULT_BUCKET_ELEMENTS} per gradient bucket. */
    public DistributedStep(ClmrNetwork network, Adam adam, double temperature, Collective collective, long generation) {
        this(network, adam, temperature, collective, generation, DEFAULT_BUCKET_ELEMENTS);
    }

    /** @param bucketElements gradient elements per bucket (whole tensors; see {@link BucketLayout}) */
    public DistributedStep(ClmrNetwork network, Adam adam, double temperature, Collective collective, long generation,
                           int bucketElements) {
        this.network = network;
        this.adam = adam;
        this.temperature = temperature;
        this.collective = collective;
        this.generation = generation;
        this.params = network.params();
        long[] sizes = params.stream().mapToLong(Param::size).toArray();
        this.layout = BucketLayout.of(sizes, bucketElements);
        this.summed = collective.worldSize() > 1 ? new float[Gradients.size(params)] : null;
    }

    /** One whole step: gradients, then the update. */
    public Result run(long step, int[] shares, ShareLoader loader) {
        return apply(computeGradients(step, shares, loader));
    }

    /** The gradient buckets of this step's layout. */
    public BucketLayout buckets() {
        return layout;
    }

    /**
     * Everything up to the update: afterwards every rank's parameters hold the gradient of the global
     * loss (summed over ranks). A non-finite loss skips the backward pass and restores the running
     * statistics; {@link #apply} then reports the skip. If it throws (a collective failed: a peer was
     * silent or lost; a gradient bucket among them), weights, gradients and running statistics are as
     * before the step.
     *
     * @param step   the global step index (tags the collective operations; increases step by step)
     * @param shares every rank's share of the global batch, by rank, each >= 1
     */
    public Pending computeGradients(long step, int[] shares, ShareLoader loader) {
        RunningStats saved = RunningStats.save(network);
        Tensors.Count before = Tensors.count();
        CommThread comm = collective.worldSize() > 1
                ? CommThread.start(collective, "clmr-comm-g" + generation + "-r" + collective.rank(), QUEUE) : null;
        StepCollective ops = new StepCollective(collective, comm, generation, step);
        Pending p;
        try {
            p = gradients(shares, loader, saved, ops, before);
        } catch (RuntimeException e) {
            // a failed collective (or anything else) leaves the model as it was before the step
            if (comm != null) {
                comm.cancel();
            }
            saved.restore(network);
            Gradients.zero(params);
            throw e;
        }
        if (comm != null) {
            comm.close();
            p.busyNs = comm.busyNanos();
        }
        p.operations = new int[] {ops.operations(), ops.batchNormOperations(), summed == null ? 0 : layout.count()};
        return p;
    }

    private Pending gradients(int[] shares, ShareLoader loader, RunningStats saved, StepCollective ops,
                              Tensors.Count before) {
        int rank = collective.rank();
        int offset = Shares.check(shares, collective.worldSize(), rank, 1);
        int own = shares[rank];
        int length = network.spec().inputLength();
        long[] ns = new long[6];

        long t0 = System.nanoTime();
        ViewPairs pairs = loader.load(offset, own);
        if (pairs.batch() != own || pairs.length() != length) {
            throw new IllegalStateException("rank " + rank + " loaded " + pairs.batch() + " x " + pairs.length()
                    + " samples, its share is " + own + " x " + length);
        }
        long t1 = System.nanoTime();
        ns[0] = t1 - t0;
        double loss;
        GradientBuckets buckets = summed == null ? null : new GradientBuckets(layout, params, summed, ops);
        JniUtils.setGradMode(true);
        try (NDManager scope = network.manager().newSubManager()) {
            List<NDArray> x = Tensors.uploadRows(scope, List.of(pairs.first(), pairs.second()),
                    new Shape(own, 1, length));                                  // [s, 1, L] per view
            List<ClmrNetwork.ViewTape> tapes = network.forwardTrain(x, ops);
            long t2 = System.nanoTime();
            ns[1] = t2 - t1 - ops.nanos();
            long c1 = ops.nanos();
            DeviceNtXent.Views l = summed == null
                    ? DeviceNtXent.ofViews(tapes.get(0).z, tapes.get(1).z, temperature)
                    : gatheredLoss(scope, tapes, shares, offset, ops);
            ns[2] = System.nanoTime() - t2 - (ops.nanos() - c1);
            loss = l.loss();
            if (!Double.isFinite(loss)) {
                saved.restore(network);
                ns[3] = ops.nanos();
                return new Pending(loss, "non-finite loss " + loss, ns, before);
            }
            ops.launchWith(buckets);
            long c2 = ops.nanos();
            long t4 = System.nanoTime();
            network.backward(tapes, l.gradients(), ops, buckets == null ? from -> { } : buckets::finalFrom);
            ns[4] = System.nanoTime() - t4 - (ops.nanos() - c2);
        } finally {
            // off, as DJL leaves its main thread (a new thread starts with PyTorch's default: on)
            JniUtils.setGradMode(false);
        }
        Pending p = new Pending(loss, null, ns, before);
        if (buckets != null) {
            long t5 = System.nanoTime();
            long c3 = ops.nanos();
            GradientBuckets.Sum sum = buckets.finish();
            Gradients.overwrite(params, summed);
            ns[4] += System.nanoTime() - t5 - (ops.nanos() - c3);
            p.checkedOnHost = true;
            p.nonFinite = sum.firstNonFinite() < 0 ? null : Gradients.nameAt(params, sum.firstNonFinite());
            p.digest = String.format("%016x", sum.digest());
        }
        ns[3] = ops.nanos();
        return p;
    }

    /**
     * The loss of a world of several ranks: this rank's z down (one transfer), every rank's gathered, up
     * again (one), loss and gradient of this rank's anchors on the device, down in one array, the loss and
     * gradients summed over ranks, this rank's rows of the gradient up (one).
     */
    private DeviceNtXent.Views gatheredLoss(NDManager scope, List<ClmrNetwork.ViewTape> tapes, int[] shares,
                                            int offset, StepCollective ops) {
        int own = shares[collective.rank()];
        int dim = Math.toIntExact(tapes.get(0).z.getShape().get(1));
        float[] local;
        try (NDArray z1 = tapes.get(0).z.stopGradient();
             NDArray z2 = tapes.get(1).z.stopGradient();
             NDArray both = NDArrays.concat(new NDList(z1, z2))) {
            local = Tensors.downloadFloats(both);                                 // [2s, d]: first views, then second
        }
        int[] rowCounts = new int[shares.length];
        for (int r = 0; r < shares.length; r++) {
            rowCounts[r] = 2 * shares[r] * dim;
        }
        float[] z = ops.allGather(local, rowCounts);                                // [2B, d] in rank blocks
        int rows = z.length / dim;
        double[] packed;
        try (NDArray all = Tensors.upload(scope, z, new Shape(rows, dim))) {
            DeviceNtXent.Result r = DeviceNtXent.compute(all, 2 * offset, own, rows, temperature);
            try (NDArray g = r.gradient().reshape(-1);
                 NDArray both = NDArrays.concat(new NDList(g, r.loss()))) {
                packed = Tensors.download(both);                                    // [2B d + 1]: dL/dz, loss
            }
            r.loss().close();
            r.gradient().close();
        }
        double[] loss = {packed[packed.length - 1]};
        float[] gradient = new float[packed.length - 1];
        for (int i = 0; i < gradient.length; i++) {
            gradient[i] = (float) packed[i];
        }
        ops.allReduceSum(loss);
        float[] gradZ = ops.reduceScatterSum(gradient, rowCounts);               // [2s, d]: dL/dz of own rows
        int half = own * dim;
        List<NDArray> seeds = Tensors.uploadRows(scope, List.of(Arrays.copyOfRange(gradZ, 0, half),
                Arrays.copyOfRange(gradZ, half, 2 * half)), new Shape(own, dim));
        return new DeviceNtXent.Views(loss[0], seeds);
    }

    /** Checks the summed gradients are finite, then updates the weights (or zeroes the gradients). */
    public Result apply(Pending p) {
        long t = System.nanoTime();
        JniUtils.setGradMode(false);
        String reason = p.skipReason;
        if (reason == null) {
            String bad = p.checkedOnHost ? p.nonFinite : Gradients.firstNonFinite(params);
            if (bad != null) {
                reason = "non-finite gradient in " + bad;
                Gradients.zero(params);
            } else {
                adam.update();
            }
        }
        long[] ns = p.ns;
        Phases phases = new Phases(ns[0], ns[1], ns[2], ns[3], ns[4], System.nanoTime() - t);
        Tensors.Count moved = Tensors.count().since(p.transfersBefore);
        Traffic traffic = new Traffic(moved.transfers(), moved.bytes(), p.operations[0], p.operations[1],
                p.operations[2], p.busyNs);
        return new Result(p.loss, reason == null, reason, phases, p.digest, traffic);
    }
}

package org.clmr.worker.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.clmr.worker.model.Tensors;

import java.util.List;

/**
 * {@link NtXent} on the device that holds the embeddings: the same partial loss and gradient, in double
 * precision, as a few matrix products over the 2B x 2B similarities instead of host loops, and without a
 * round trip through the host in a single process. The anchors are one worker's block of the gathered rows
 * (its first views, then their second views, so each row's positive lies in the same block, {@code share}
 * rows away). Needs autograd recording off or on alike: it records nothing (its input is a value, not a
 * graph node). Stateless; the training thread calls it.
 */
public final class DeviceNtXent {
    private static final double NORM_EPS = 1e-8;

    private DeviceNtXent() {
    }

    /**
     * A partial loss and its gradient, both FLOAT64 in the manager of the embeddings.
     *
     * @param loss     [1]: the block's cross-entropy terms summed, divided by the global count
     * @param gradient [rows, dim]: dLoss/dz of every gathered row
     */
    public record Result(NDArray loss, NDArray gradient) {
    }

    /**
     * @param z           gathered embeddings [rows, dim] (not normalised, any float type), a value without a graph
     * @param blockFrom   the first row of this worker's block
     * @param share       tracks in the block: its anchors are rows [blockFrom, blockFrom + 2 share)
     * @param globalCount number of anchors of the whole batch (2B): the loss is a mean over them
     * @param temperature tau
     */
    public static Result compute(NDArray z, int blockFrom, int share, int globalCount, double temperature) {
        int rows = Math.toIntExact(z.getShape().get(0));
        int anchors = 2 * share;
        if (z.getShape().dimension() != 2 || share < 1 || blockFrom < 0 || blockFrom + anchors > rows) {
            throw new IllegalArgumentException("a block of " + anchors + " rows from row " + blockFrom
                    + " does not fit embeddings of shape " + z.getShape());
        }
        NDManager out = z.getManager();
        try (NDManager tmp = out.newSubManager()) {
            NDArray z64 = z.toType(DataType.FLOAT64, true);
            z64.attach(tmp);                         // everything computed from it lands in tmp
            NDArray norm = z64.square().sum(new int[] {1}, true).sqrt().maximum(NORM_EPS);   // [R, 1]
            NDArray u = z64.div(norm);                                                         // [R, d]
            NDArray ua = u.get(blockFrom + ":" + (blockFrom + anchors));                       // [A, d]
            NDArray logits = ua.matMul(u.transpose()).div(temperature);                        // [A, R]
            NDArray self = band(tmp, rows, blockFrom, tmp.eye(anchors, anchors, 0, DataType.FLOAT64));
            NDArray positive = band(tmp, rows, blockFrom, swapHalves(tmp, share));
            NDArray masked = NDArrays.where(self.toType(DataType.BOOLEAN, false),
                    tmp.full(new Shape(anchors, rows), Float.NEGATIVE_INFINITY, DataType.FLOAT64), logits);
            NDArray max = masked.max(new int[] {1}, true);                                     // [A, 1]
            NDArray lse = masked.sub(max).exp().sum(new int[] {1}, true).log().add(max);        // [A, 1]
            NDArray positiveLogit = logits.mul(positive).sum(new int[] {1}, true);             // [A, 1]
            double scale = 1.0 / globalCount;
            NDArray loss = lse.sub(positiveLogit).sum().mul(scale).reshape(1);
            // dL/dlogit_l = softmax_l - [l is the positive] (0 on the masked diagonal); dlogit/du = other row / tau
            NDArray g = masked.sub(lse).exp().sub(positive).mul(scale / temperature);         // [A, R]
            NDArray gu = g.transpose().matMul(ua).add(bandRows(tmp, rows, blockFrom, g.matMul(u)));  // [R, d]
            NDArray dot = u.mul(gu).sum(new int[] {1}, true);                                  // [R, 1]
            NDArray gradient = gu.sub(u.mul(dot)).div(norm);                                  // [R, d]
            loss.attach(out);
            gradient.attach(out);
            return new Result(loss, gradient);
        }
    }

    /**
     * One process's loss over its whole batch.
     *
     * @param loss      the loss, as a double
     * @param gradients dL/dz per view, FLOAT32 [B, d] on the device, each in storage of its own
     */
    public record Views(double loss, List<NDArray> gradients) {
    }

    /**
     * The loss of a whole batch held in one process, without a host round trip of the embeddings: both
     * views' z (graph nodes; their values are used), every row an anchor; one transfer (the loss).
     */
    public static Views ofViews(NDArray z1, NDArray z2, double temperature) {
        int b = Math.toIntExact(z1.getShape().get(0));
        try (NDArray v1 = z1.stopGradient();
             NDArray v2 = z2.stopGradient();
             NDArray z = NDArrays.concat(new NDList(v1, v2))) {                          // [2B, d]
            Result r = compute(z, 0, b, 2 * b, temperature);
            try (NDArray loss = r.loss();
                 NDArray gradient = r.gradient();
                 NDArray g32 = gradient.toType(DataType.FLOAT32, false);
                 NDArray g1 = g32.get("0:" + b);
                 NDArray g2 = g32.get(b + ":" + 2 * b)) {
                // copies, so that each view's gradient starts its own aligned storage as an upload would
                return new Views(Tensors.download(loss)[0], List.of(g1.duplicate(), g2.duplicate()));
            }
        }
    }

    /** [[0, I], [I, 0]] of size 2s: row k's positive is k + s in the first half, k - s in the second. */
    private static NDArray swapHalves(NDManager m, int s) {
        NDArray zero = m.zeros(new Shape(s, s), DataType.FLOAT64);
        NDArray eye = m.eye(s, s, 0, DataType.FLOAT64);
        return NDArrays.concat(new NDList(NDArrays.concat(new NDList(zero, eye), 1),
                NDArrays.concat(new NDList(eye, zero), 1)));
    }

    /** {@code block} [A, A] placed at columns [from, from + A) of an [A, rows] zero matrix. */
    private static NDArray band(NDManager m, int rows, int from, NDArray block) {
        int a = Math.toIntExact(block.getShape().get(0));
        NDList parts = new NDList(3);
        if (from > 0) {
            parts.add(m.zeros(new Shape(a, from), DataType.FLOAT64));
        }
        parts.add(block);
        if (rows - from - a > 0) {
            parts.add(m.zeros(new Shape(a, rows - from - a), DataType.FLOAT64));
        }
        return parts.size() == 1 ? block : NDArrays.concat(parts, 1);
    }

    /** {@code block} [A, d] placed at rows [from, from + A) of a [rows, d] zero matrix. */
    private static NDArray bandRows(NDManager m, int rows, int from, NDArray block) {
        long a = block.getShape().get(0);
        long d = block.getShape().get(1);
        NDList parts = new NDList(3);
        if (from > 0) {
            parts.add(m.zeros(new Shape(from, d), DataType.FLOAT64));
        }
        parts.add(block);
        if (rows - from - a > 0) {
            parts.add(m.zeros(new Shape(rows - from - a, d), DataType.FLOAT64));
        }
        return parts.size() == 1 ? block : NDArrays.concat(parts, 0);
    }
}

package org.clmr.worker.step;

import org.clmr.worker.collective.BucketLayout;
import org.clmr.worker.collective.CommThread;
import org.clmr.worker.model.Gradients;
import org.clmr.worker.model.Param;

import java.util.ArrayList;
import java.util.List;

/**
 * The gradient all-reduce of one distributed step, in the fixed buckets of a {@link BucketLayout} over
 * the parameters' order, overlapped with the backward pass. The backward pass says which gradients are
 * final ({@link #finalFrom}); at the next batch-norm gradient exchange ({@link StepCollective}) every bucket
 * completed since is copied to the host (one transfer each) and issued to the communication thread right
 * behind that exchange, so it is summed while the training thread runs the layer's convolution backward.
 * {@link #finish} issues the rest and joins every bucket before the finite check and the update. On the
 * communication thread each summed bucket is also scanned for NaN and infinity and hashed, so that neither
 * costs the training thread. Issue order follows the layout and the backward's fixed course, never timing,
 * so every rank issues the same operations in the same order. Training thread only.
 */
final class GradientBuckets {
    private final BucketLayout layout;
    private final List<Param> params;
    private final float[] flat;
    private final StepCollective ops;
    private final List<CommThread.Ticket<Summary>> tickets = new ArrayList<>();
    private int finalFrom;
    private int launched;

    /** What the communication thread learned of one summed bucket. */
    private record Summary(long digest, int firstNonFinite) {
    }

    /**
     * What the summed gradient holds.
     *
     * @param digest         a 64-bit hash of every summed element's bits, bucket by bucket (equal on every rank)
     * @param firstNonFinite the first element (in parameter order) that is NaN or infinite, or -1
     */
    record Sum(long digest, int firstNonFinite) {
    }

    /**
     * @param flat the host vector the buckets are copied to and summed in (params' order, all of them)
     */
    GradientBuckets(BucketLayout layout, List<Param> params, float[] flat, StepCollective ops) {
        this.layout = layout;
        this.params = params;
        this.flat = flat;
        this.ops = ops;
        this.finalFrom = params.size();
    }

    /** The backward pass: the gradients of params [from, end) are final. */
    void finalFrom(int from) {
        finalFrom = Math.min(finalFrom, from);
    }

    /** Copies to the host and issues every completed bucket not issued yet, in bucket order. */
    void launchReady() {
        while (launched < layout.count() && layout.fromTensor(launched) >= finalFrom) {
            int b = launched++;
            int from = layout.fromElement(b);
            int length = layout.length(b);
            Gradients.download(params, layout.fromTensor(b), layout.toTensor(b), flat, from);
            tickets.add(ops.submit(tag -> c -> {
                c.allReduceSum(tag, flat, from, length);
                return summarise(flat, from, length);
            }));
        }
    }

    /** Issues what is left and waits for every bucket: the flat vector then holds the summed gradient. */
    Sum finish() {
        finalFrom = 0;
        launchReady();
        long digest = 0x636C6D72L;
        int bad = -1;
        for (int b = 0; b < tickets.size(); b++) {
            Summary s = ops.await(tickets.get(b));
            digest = mix(digest ^ s.digest());
            if (s.firstNonFinite() >= 0) {
                int at = layout.fromElement(b) + s.firstNonFinite();
                bad = bad < 0 ? at : Math.min(bad, at);
            }
        }
        return new Sum(digest, bad);
    }

    /** On the communication thread: the bucket's hash and its first non-finite element. */
    private static Summary summarise(float[] data, int from, int length) {
        long h = length;
        int bad = -1;
        for (int i = 0; i < length; i++) {
            float v = data[from + i];
            if (bad < 0 && !Float.isFinite(v)) {
                bad = i;
            }
            h = Long.rotateLeft(h ^ (Float.floatToRawIntBits(v) * 0x9E3779B97F4A7C15L), 27) * 0xBF58476D1CE4E5B9L;
        }
        return new Summary(mix(h), bad);
    }

    /** A 64-bit finaliser (splitmix64's). */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}

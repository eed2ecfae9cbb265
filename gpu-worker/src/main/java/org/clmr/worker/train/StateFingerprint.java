package org.clmr.worker.train;

import org.clmr.worker.model.ClmrNetwork;
import org.clmr.worker.model.ConvBnSegment;
import org.clmr.worker.step.DistributedStep;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The fingerprint each step reports, without copying the weights off the device every step. At a plan's
 * boundaries (and for checkpoints and state transfers) it is the weights' own fingerprint
 * ({@link ClmrNetwork#fingerprint()}, cached until the weights change). Inside a plan it is a chain,
 * {@code chain:} + SHA-256 of the previous link, the step, its loss, whether it was applied, the digest of
 * its summed gradient and the running statistics, started from the weights' fingerprint at the plan's first
 * step. Ranks that start a plan with the same weights (the first link proves it) and apply the same summed
 * gradient bits every step (the links prove it) hold the same weights, so the chain proves what the
 * per-step weights fingerprint proved, for the price of hashing host arrays. Training thread only.
 */
final class StateFingerprint {
    private String weights;
    private long weightsAt = -1;
    private byte[] chain;

    /** The weights' fingerprint of the state after {@code completed} steps (computed once per state). */
    String weights(ClmrNetwork network, long completed) {
        if (weights == null || weightsAt != completed) {
            weights = network.fingerprint();
            weightsAt = completed;
        }
        return weights;
    }

    /** The weights were replaced (a restore): the cached fingerprint is stale. */
    void invalidate() {
        weights = null;
        weightsAt = -1;
    }

    /** A plan starts after {@code completed} steps: the chain restarts from the weights' fingerprint. */
    void startPlan(ClmrNetwork network, long completed) {
        MessageDigest md = sha256();
        md.update(weights(network, completed).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        md.update(longBytes(completed));
        chain = md.digest();
    }

    /** The link of the step that made {@code completed} steps. */
    String afterStep(ClmrNetwork network, long completed, DistributedStep.Result r) {
        MessageDigest md = sha256();
        md.update(chain);
        md.update(longBytes(completed));
        md.update(longBytes(Double.doubleToRawLongBits(r.loss())));
        md.update((byte) (r.applied() ? 1 : 0));
        md.update(String.valueOf(r.gradientDigest()).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        for (ConvBnSegment s : network.segments()) {
            md.update(floatBytes(s.runningMean()));
            md.update(floatBytes(s.runningVar()));
        }
        chain = md.digest();
        return "chain:" + HexFormat.of().formatHex(chain);
    }

    private static byte[] longBytes(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    private static byte[] floatBytes(float[] a) {
        ByteBuffer b = ByteBuffer.allocate(4 * a.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(a);
        return b.array();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from this JVM", e);
        }
    }
}

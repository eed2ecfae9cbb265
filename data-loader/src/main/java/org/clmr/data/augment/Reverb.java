package org.clmr.data.augment;

import org.clmr.data.random.Rng;

import java.util.List;

/**
 * Augmentation 8: freeverb-style reverb with SoX {@code reverb}'s parameter mapping (one channel, stereo depth
 * 0, pre-delay 0, wet gain 0 dB): eight parallel lowpass-feedback comb filters (freeverb's delays scaled by
 * rate/44100 and by room scale 0.1 + 0.9 * room/100), summed, then four series all-passes (feedback 0.5);
 * comb feedback from reverberance 0..100 mapped exponentially onto 0.3..0.98, high-frequency damping
 * 0.2 + 0.3 * damping/100, wet level 0.015. Output = dry + wet, the same length as the input (the tail beyond
 * the crop is cut). A constant 1e-20 is fed into the combs so that decaying tails never become subnormal
 * (which would make the filter 100x slower); it adds a DC of order 1e-18. Draws three values.
 */
public final class Reverb implements Augmentation {
    private static final int[] COMBS = {1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617};
    private static final int[] ALLPASSES = {225, 341, 441, 556};
    private static final float ANTI_DENORMAL = 1e-20f;

    private final double reverberanceMin;
    private final double reverberanceMax;
    private final double dampingMin;
    private final double dampingMax;
    private final double roomMin;
    private final double roomMax;

    /** Each parameter uniform on its range (all within 0..100). */
    public Reverb(double reverberanceMin, double reverberanceMax, double dampingMin, double dampingMax,
                  double roomMin, double roomMax) {
        this.reverberanceMin = reverberanceMin;
        this.reverberanceMax = reverberanceMax;
        this.dampingMin = dampingMin;
        this.dampingMax = dampingMax;
        this.roomMin = roomMin;
        this.roomMax = roomMax;
    }

    @Override
    public String name() {
        return "reverb";
    }

    @Override
    public String description() {
        return "freeverb (8 damped combs + 4 all-passes) mapped as SoX reverb; dry + wet";
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(
                Parameter.range("reverberance", "%", reverberanceMin, reverberanceMax, "decay time"),
                Parameter.range("damping", "%", dampingMin, dampingMax, "high-frequency damping"),
                Parameter.range("room-size", "%", roomMin, roomMax, "room scale (comb lengths)"));
    }

    @Override
    public int draws() {
        return 3;
    }

    @Override
    public void draw(Rng rng, double[] out, double[] fixed) {
        double rev = rng.uniform(reverberanceMin, reverberanceMax);
        double damp = rng.uniform(dampingMin, dampingMax);
        double room = rng.uniform(roomMin, roomMax);
        out[0] = Double.isNaN(fixed[0]) ? rev : fixed[0];
        out[1] = Double.isNaN(fixed[1]) ? damp : fixed[1];
        out[2] = Double.isNaN(fixed[2]) ? room : fixed[2];
    }

    @Override
    public void apply(float[] x, int sampleRate, double[] p, Scratch scratch) {
        apply(x, sampleRate, p[0], p[1], p[2], scratch);
    }

    /** SoX's comb feedback for a reverberance in 0..100 (0.3 at 0, 0.98 at 100). */
    public static double feedback(double reverberance) {
        double a = -1 / Math.log(1 - 0.3);
        double b = 100 / (Math.log(1 - 0.98) * a + 1);
        return 1 - Math.exp((reverberance - b) / (a * b));
    }

    /** Adds the reverberation of {@code x} to it in place. */
    public static void apply(float[] x, int sampleRate, double reverberance, double damping, double roomSize,
                             Scratch scratch) {
        int n = x.length;
        double rate = sampleRate / 44100.0;
        double scale = roomSize / 100 * 0.9 + 0.1;
        float feedback = (float) feedback(reverberance);
        float hf = (float) (damping / 100 * 0.3 + 0.2);
        int[] sizes = new int[COMBS.length + ALLPASSES.length];
        int total = 0;
        for (int i = 0; i < COMBS.length; i++) {
            sizes[i] = Math.max(1, (int) (scale * rate * COMBS[i] + 0.5));
            total += sizes[i];
        }
        for (int i = 0; i < ALLPASSES.length; i++) {
            sizes[COMBS.length + i] = Math.max(1, (int) (rate * ALLPASSES[i] + 0.5));
            total += sizes[COMBS.length + i];
        }
        float[] wet = scratch.floats(Scratch.REVERB_WET, n);
        float[] lines = scratch.floats(Scratch.REVERB_LINES, total);
        java.util.Arrays.fill(lines, 0, total, 0f);
        java.util.Arrays.fill(wet, 0, n, 0f);
        int at = 0;
        for (int k = 0; k < COMBS.length; k += 4) {
            combs(x, wet, n, lines, at, sizes, k, feedback, hf);
            at += sizes[k] + sizes[k + 1] + sizes[k + 2] + sizes[k + 3];
        }
        for (int k = ALLPASSES.length - 1; k >= 0; k--) {
            allpass(wet, n, lines, allpassOffset(sizes, k), sizes[COMBS.length + k]);
        }
        final float gain = 0.015f;
        for (int i = 0; i < n; i++) {
            x[i] += wet[i] * gain;
        }
    }

    private static int allpassOffset(int[] sizes, int k) {
        int at = 0;
        for (int i = 0; i < COMBS.length + k; i++) {
            at += sizes[i];
        }
        return at;
    }

    /**
     * Four combs k..k+3 at once (independent recurrences side by side for instruction-level parallelism),
     * in blocks between the wrap-arounds of their circular buffers, adding their outputs into wet.
     */
    private static void combs(float[] x, float[] wet, int n, float[] lines, int at, int[] sizes, int k,
                              float feedback, float hf) {
        int s0 = sizes[k];
        int s1 = sizes[k + 1];
        int s2 = sizes[k + 2];
        int s3 = sizes[k + 3];
        int b0 = at;
        int b1 = b0 + s0;
        int b2 = b1 + s1;
        int b3 = b2 + s2;
        int p0 = 0;
        int p1 = 0;
        int p2 = 0;
        int p3 = 0;
        float st0 = 0;
        float st1 = 0;
        float st2 = 0;
        float st3 = 0;
        int i = 0;
        while (i < n) {
            int len = Math.min(Math.min(n - i, s0 - p0), Math.min(Math.min(s1 - p1, s2 - p2), s3 - p3));
            for (int e = i + len; i < e; i++) {
                float in = x[i] + ANTI_DENORMAL;
                float o0 = lines[b0 + p0];
                float o1 = lines[b1 + p1];
                float o2 = lines[b2 + p2];
                float o3 = lines[b3 + p3];
                st0 = o0 + (st0 - o0) * hf;
                st1 = o1 + (st1 - o1) * hf;
                st2 = o2 + (st2 - o2) * hf;
                st3 = o3 + (st3 - o3) * hf;
                lines[b0 + p0++] = in + st0 * feedback;
                lines[b1 + p1++] = in + st1 * feedback;
                lines[b2 + p2++] = in + st2 * feedback;
                lines[b3 + p3++] = in + st3 * feedback;
                wet[i] += (o0 + o1) + (o2 + o3);
            }
            if (p0 == s0) {
                p0 = 0;
            }
            if (p1 == s1) {
                p1 = 0;
            }
            if (p2 == s2) {
                p2 = 0;
            }
            if (p3 == s3) {
                p3 = 0;
            }
        }
    }

    /** Freeverb's all-pass: out = buf - in; buf = in + 0.5 * buf; in blocks between wrap-arounds. */
    private static void allpass(float[] y, int n, float[] lines, int at, int size) {
        int p = 0;
        int i = 0;
        while (i < n) {
            int len = Math.min(n - i, size - p);
            for (int e = i + len; i < e; i++) {
                float in = y[i];
                float o = lines[at + p];
                lines[at + p++] = in + o * 0.5f;
                y[i] = o - in;
            }
            if (p == size) {
                p = 0;
            }
        }
    }
}

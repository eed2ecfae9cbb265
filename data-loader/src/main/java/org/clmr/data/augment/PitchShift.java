package org.clmr.data.augment;

import org.clmr.data.random.Rng;

import java.util.List;

/**
 * Augmentation 7: pitch shift by n semitones keeping length and duration, as SoX's {@code pitch} does it:
 * a WSOLA time stretch by r = 2^(n/12) followed by resampling by 1/r. Every frequency moves by r.
 *
 * <p>WSOLA (waveform-similarity overlap-add, SoX {@code tempo}'s music defaults): segments of 82 ms, the next
 * one starting where the stretched timeline maps back into the input, moved within +-14.68 ms to where its
 * first 12 ms best match (largest cross-correlation) the tail of what is already written, then cross-faded
 * linearly over those 12 ms. The search is coarse-to-fine: every 4th lag on every 2nd sample, then every lag
 * within +-3 of the best, on every sample.
 *
 * <p>Resampling: 16-tap windowed-sinc (Blackman window) interpolation at the nearest of 256 tabulated phases
 * (timing error at most 1/512 sample), each phase normalised to unit DC gain; cut-off 0.92 of the lower Nyquist, so
 * shifting up does not alias. The edges are extended by repeating the first and last sample.
 *
 * <p>Crops shorter than 64 samples are left unchanged; crops shorter than a segment use one segment as long
 * as the crop (with overlap and search a quarter of it). Draws one value.
 */
public final class PitchShift implements Augmentation {
    private static final double SEGMENT_MS = 82;
    private static final double SEARCH_MS = 14.68;
    private static final double OVERLAP_MS = 12;
    private static final int COARSE_LAG = 4;
    private static final int COARSE_STRIDE = 2;
    private static final int HALF_TAPS = 8;
    private static final int TAPS = 2 * HALF_TAPS;
    private static final int PHASES = 256;
    private static final double CUTOFF = 0.92;
    /** Blackman window at each table position, [phase][tap] flattened; independent of the ratio. */
    private static final float[] WINDOW = window();

    private final double minSemitones;
    private final double maxSemitones;

    /** A shift uniform in [minSemitones, maxSemitones]. */
    public PitchShift(double minSemitones, double maxSemitones) {
        this.minSemitones = minSemitones;
        this.maxSemitones = maxSemitones;
    }

    @Override
    public String name() {
        return "pitch";
    }

    @Override
    public String description() {
        return "pitch shift keeping length and duration (WSOLA + windowed-sinc resampling)";
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(Parameter.range("semitones", "semitones", minSemitones, maxSemitones, "shift; ratio 2^(n/12)"));
    }

    @Override
    public int draws() {
        return 1;
    }

    @Override
    public void draw(Rng rng, double[] out, double[] fixed) {
        double n = rng.uniform(minSemitones, maxSemitones);
        out[0] = Double.isNaN(fixed[0]) ? n : fixed[0];
    }

    @Override
    public void apply(float[] x, int sampleRate, double[] p, Scratch scratch) {
        shift(x, sampleRate, p[0], scratch);
    }

    /** Shifts the pitch of {@code x} in place by {@code semitones}; its length and duration stay. */
    public static void shift(float[] x, int sampleRate, double semitones, Scratch scratch) {
        int n = x.length;
        if (semitones == 0 || n < 64) {
            return;
        }
        double r = Math.pow(2, semitones / 12);
        // The resampler reads the stretched signal s at j * r for j < n, plus HALF_TAPS either side.
        int needed = (int) Math.ceil((n - 1) * r) + HALF_TAPS + 2;
        int segment = Math.min((int) Math.round(SEGMENT_MS * sampleRate / 1000), n);
        float[] s = scratch.floats(Scratch.PITCH_STRETCH, HALF_TAPS + needed + segment + HALF_TAPS);
        int written = stretch(x, s, HALF_TAPS, needed, r, sampleRate, segment);
        float first = s[HALF_TAPS];
        for (int i = 0; i < HALF_TAPS; i++) {
            s[i] = first;
        }
        float last = s[HALF_TAPS + written - 1];
        for (int i = HALF_TAPS + written; i < HALF_TAPS + needed + HALF_TAPS; i++) {
            s[i] = last;
        }
        resample(s, HALF_TAPS, x, r, scratch);
    }

    /** WSOLA: writes at least {@code needed} samples of x stretched by r to s from {@code off}; returns how many. */
    private static int stretch(float[] x, float[] s, int off, int needed, double r, int sampleRate, int segment) {
        int n = x.length;
        int overlap = Math.max(1, Math.min((int) Math.round(OVERLAP_MS * sampleRate / 1000), segment / 4));
        int search = Math.min((int) Math.round(SEARCH_MS * sampleRate / 1000), segment / 4);
        int hop = segment - overlap;
        System.arraycopy(x, 0, s, off, segment);
        int out = hop;
        while (out + overlap < needed) {
            int nominal = (int) Math.round(out / r);
            int hi = Math.min(n - segment, nominal + search);
            int lo = Math.max(0, Math.min(hi, nominal - search));
            int c = bestMatch(x, lo, hi, s, off + out, overlap);
            int o = off + out;
            float step = 1f / (overlap + 1);
            for (int i = 0; i < overlap; i++) {
                float w = (i + 1) * step;
                s[o + i] += (x[c + i] - s[o + i]) * w;
            }
            System.arraycopy(x, c + overlap, s, o + overlap, segment - overlap);
            out += hop;
        }
        return out + overlap;
    }

    /** The candidate start in [lo, hi] whose first {@code len} samples correlate best with t[to..to+len). */
    private static int bestMatch(float[] x, int lo, int hi, float[] t, int to, int len) {
        int best = lo;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (int c = lo; c <= hi; c += COARSE_LAG) {
            double score = dot(x, c, t, to, len, COARSE_STRIDE);
            if (score > bestScore) {
                bestScore = score;
                best = c;
            }
        }
        int coarse = best;
        bestScore = Double.NEGATIVE_INFINITY;
        for (int c = Math.max(lo, coarse - COARSE_LAG + 1); c <= Math.min(hi, coarse + COARSE_LAG - 1); c++) {
            double score = dot(x, c, t, to, len, 1);
            if (score > bestScore) {
                bestScore = score;
                best = c;
            }
        }
        return best;
    }

    private static double dot(float[] a, int ao, float[] b, int bo, int len, int stride) {
        float s0 = 0;
        float s1 = 0;
        int i = 0;
        for (; i + stride < len; i += 2 * stride) {
            s0 += a[ao + i] * b[bo + i];
            s1 += a[ao + i + stride] * b[bo + i + stride];
        }
        for (; i < len; i += stride) {
            s0 += a[ao + i] * b[bo + i];
        }
        return s0 + s1;
    }

    /** out[j] = s(j * r) for j < out.length, s starting at {@code off} in {@code s}. */
    private static void resample(float[] s, int off, float[] out, double r, Scratch scratch) {
        float[] h = table(Math.min(1, 1 / r) * CUTOFF, scratch);
        for (int j = 0; j < out.length; j++) {
            double t = j * r;
            int i = (int) t;
            int h0 = (int) ((t - i) * PHASES + 0.5) * TAPS;
            int base = off + i - HALF_TAPS + 1;
            float a0 = 0;
            float a1 = 0;
            for (int m = 0; m < TAPS; m += 2) {
                a0 += h[h0 + m] * s[base + m];
                a1 += h[h0 + m + 1] * s[base + m + 1];
            }
            out[j] = a0 + a1;
        }
    }

    /**
     * The kernel at distance d - (m - HALF_TAPS + 1) for phase d = p / PHASES, [p][m] flattened:
     * fc * sinc(fc * distance) * window, rows normalised to sum 1. The sines come from angle addition so a
     * table costs ~300 trigonometric calls.
     */
    private static float[] table(double fc, Scratch scratch) {
        float[] h = scratch.floats(Scratch.PITCH_TABLE, (PHASES + 1) * TAPS);
        double[] sinB = new double[TAPS];
        double[] cosB = new double[TAPS];
        for (int m = 0; m < TAPS; m++) {
            double b = Math.PI * fc * (m - HALF_TAPS + 1);
            sinB[m] = Math.sin(b);
            cosB[m] = Math.cos(b);
        }
        for (int p = 0; p <= PHASES; p++) {
            double d = (double) p / PHASES;
            double a = Math.PI * fc * d;
            double sinA = Math.sin(a);
            double cosA = Math.cos(a);
            double sum = 0;
            int row = p * TAPS;
            for (int m = 0; m < TAPS; m++) {
                double dist = d - (m - HALF_TAPS + 1);
                double sinc = Math.abs(dist) < 1e-12 ? fc : (sinA * cosB[m] - cosA * sinB[m]) / (Math.PI * dist);
                double v = sinc * WINDOW[row + m];
                h[row + m] = (float) v;
                sum += v;
            }
            float norm = (float) (1 / sum);
            for (int m = 0; m < TAPS; m++) {
                h[row + m] *= norm;
            }
        }
        return h;
    }

    private static float[] window() {
        float[] w = new float[(PHASES + 1) * TAPS];
        for (int p = 0; p <= PHASES; p++) {
            double d = (double) p / PHASES;
            for (int m = 0; m < TAPS; m++) {
                double u = (d - (m - HALF_TAPS + 1)) / HALF_TAPS;
                w[p * TAPS + m] = Math.abs(u) >= 1 ? 0f
                        : (float) (0.42 + 0.5 * Math.cos(Math.PI * u) + 0.08 * Math.cos(2 * Math.PI * u));
            }
        }
        return w;
    }
}

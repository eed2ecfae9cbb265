package org.clmr.data.generate;

import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The generated set's instruments, each a distinct timbre made by additive synthesis from wavetables:
 * a plucked string (bright attack that dulls fast), an organ (steady drawbar partials), a pad (two
 * detuned soft saws with a slow swell), a bass (low, few partials) and a bell (inharmonic partials that
 * decay at different rates). Tables are band-limited per note so nothing aliases.
 */
public enum Instrument {
    PLUCK, ORGAN, PAD, BASS, BELL;

    static final int TABLE_BITS = 12;
    static final int TABLE_SIZE = 1 << TABLE_BITS;
    private static final int MAX_HARMONICS = 48;
    private static final ConcurrentHashMap<Integer, float[]> TABLES = new ConcurrentHashMap<>();
    private static final double[] BELL_RATIOS = {1.0, 2.0, 2.76, 4.07, 5.40};
    private static final double[] BELL_AMPS = {1.0, 0.5, 0.6, 0.3, 0.25};
    private static final double[] BELL_TAUS = {1.2, 0.8, 0.55, 0.35, 0.25};

    /** The tag name. */
    public String tag() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Adds one note to {@code out}.
     *
     * @param out      the stem
     * @param start    first sample
     * @param duration samples the note is held
     * @param freq     fundamental in Hz
     * @param velocity amplitude 0..1
     * @param sr       sample rate
     */
    void render(float[] out, int start, int duration, double freq, double velocity, int sr) {
        switch (this) {
            case BELL:
                renderBell(out, start, duration, freq, velocity, sr);
                return;
            case PLUCK:
                renderPluck(out, start, duration, freq, velocity, sr);
                return;
            case PAD:
                float[] soft = table(2, freq * 1.006, sr);
                int padLen = duration + (int) (0.6 * sr);
                renderHarmonic(out, table(2, freq, sr), start, padLen, duration, freq, velocity * 0.55, sr, 0.35, 0, 0.6);
                renderHarmonic(out, soft, start, padLen, duration, freq * 1.006, velocity * 0.55, sr, 0.35, 0, 0.6);
                return;
            case ORGAN:
                renderHarmonic(out, table(1, freq, sr), start, duration + (int) (0.06 * sr), duration, freq, velocity,
                        sr, 0.015, 0, 0.06);
                return;
            default:
                renderHarmonic(out, table(3, freq, sr), start, duration + (int) (0.05 * sr), duration, freq, velocity,
                        sr, 0.008, 0.8, 0.05);
        }
    }

    /** A note from one table: linear attack, optional exponential decay, linear release after note-off. */
    private static void renderHarmonic(float[] out, float[] table, int start, int length, int held, double freq,
                                       double velocity, int sr, double attackS, double decayTau, double releaseS) {
        int attack = Math.max(1, (int) (attackS * sr));
        int release = Math.max(1, (int) (releaseS * sr));
        float decay = decayTau > 0 ? (float) Math.exp(-1.0 / (decayTau * sr)) : 1f;
        Voice v = new Voice(phaseIncrement(freq, sr), (float) velocity, decay);
        int end = Math.min(out.length, start + length);
        int heldEnd = Math.min(end, start + Math.max(held, attack));
        int i = v.ramp(out, table, start, Math.min(heldEnd, start + attack), 0f, 1f / attack);
        i = v.ramp(out, table, i, heldEnd, 1f, 0f);
        v.ramp(out, table, i, Math.min(end, i + release), 1f, -1f / release);
    }

    /** An oscillator reading a table with an exponentially decaying level; ramps apply a linear envelope. */
    private static final class Voice {
        private final int inc;
        private final float decay;
        private int phase;
        private float level;

        Voice(int inc, float level, float decay) {
            this.inc = inc;
            this.level = level;
            this.decay = decay;
        }

        /** Adds samples [from, to) with the envelope starting at {@code env} and moving by {@code step}; returns to. */
        int ramp(float[] out, float[] t, int from, int to, float env, float step) {
            int p = phase;
            float l = level;
            float e = env;
            for (int i = from; i < to; i++) {
                out[i] += l * e * lookup(t, p);
                l *= decay;
                e += step;
                p += inc;
            }
            phase = p;
            level = l;
            return Math.max(from, to);
        }
    }

    private static void renderPluck(float[] out, int start, int held, double freq, double velocity, int sr) {
        float[] bright = table(4, freq, sr);
        float[] dull = table(5, freq, sr);
        int end = Math.min(out.length, start + held + (int) (0.3 * sr));
        int attack = Math.max(1, (int) (0.003 * sr));
        int heldEnd = Math.min(end, start + Math.max(held, attack));
        float releaseStep = -1f / (float) (0.3 * sr);
        float decay = (float) Math.exp(-1.0 / (0.35 * sr));
        float dulling = (float) Math.exp(-1.0 / (0.06 * sr));
        int inc = phaseIncrement(freq, sr);
        int phase = 0;
        float level = (float) velocity;
        float brightness = 1f;
        float env = 0f;
        float step = 1f / attack;
        for (int i = start; i < end; i++) {
            if (i == start + attack) {
                step = 0f;
                env = 1f;
            }
            if (i == heldEnd) {
                step = releaseStep;
            }
            float b = lookup(bright, phase);
            float d = lookup(dull, phase);
            out[i] += level * env * (d + brightness * (b - d));
            level *= decay;
            brightness *= dulling;
            env += step;
            phase += inc;
        }
    }

    private static void renderBell(float[] out, int start, int held, double freq, double velocity, int sr) {
        float[] sine = table(0, 0, sr);
        int end = Math.min(out.length, start + held + (int) (0.8 * sr));
        int attack = Math.max(1, (int) (0.002 * sr));
        for (int p = 0; p < BELL_RATIOS.length; p++) {
            double f = freq * BELL_RATIOS[p];
            if (f > 0.45 * sr) {
                break;
            }
            float decay = (float) Math.exp(-1.0 / (BELL_TAUS[p] * sr));
            Voice v = new Voice(phaseIncrement(f, sr), (float) (velocity * BELL_AMPS[p] * 0.45), decay);
            // a partial ends once it has decayed by 50 dB
            int partialEnd = Math.min(end, start + (int) (5.8 * BELL_TAUS[p] * sr));
            // a note cut short by the end of the track may end inside its attack: the fade never starts past it
            int fadeStart = Math.min(partialEnd, Math.max(start + attack, partialEnd - (int) (0.02 * sr)));
            int i = v.ramp(out, sine, start, Math.min(partialEnd, start + attack), 0f, 1f / attack);
            i = v.ramp(out, sine, i, fadeStart, 1f, 0f);
            v.ramp(out, sine, i, partialEnd, 1f, -1f / Math.max(1, partialEnd - i));
        }
    }

    private static int phaseIncrement(double freq, int sr) {
        return (int) Math.round(freq / sr * 4294967296.0);
    }

    private static float lookup(float[] t, int phase) {
        int i = phase >>> (32 - TABLE_BITS);
        float frac = ((phase >>> (32 - TABLE_BITS - 16)) & 0xFFFF) * (1f / 65536f);
        float a = t[i];
        float b = t[(i + 1) & (TABLE_SIZE - 1)];
        return a + (b - a) * frac;
    }

    /**
     * One cycle of a spectrum, band-limited to the partials below 0.45 sr for {@code freq}: 0 sine,
     * 1 organ drawbars, 2 soft saw, 3 bass, 4 bright pluck, 5 dull pluck.
     */
    static float[] table(int spectrum, double freq, int sr) {
        int harmonics = spectrum == 0 ? 1 : (int) Math.max(1, Math.min(MAX_HARMONICS, Math.floor(0.45 * sr / freq)));
        return TABLES.computeIfAbsent(spectrum * 1000 + harmonics, k -> build(spectrum, harmonics));
    }

    private static float[] build(int spectrum, int harmonics) {
        double[] amp = new double[harmonics + 1];
        for (int k = 1; k <= harmonics; k++) {
            switch (spectrum) {
                case 1: amp[k] = k == 1 ? 1 : k == 2 ? 0.8 : k == 3 ? 0.6 : k == 4 ? 0.45 : k == 6 ? 0.3 : k == 8 ? 0.25 : 0; break;
                case 2: amp[k] = 1.0 / Math.pow(k, 1.4); break;
                case 3: amp[k] = k == 1 ? 1 : k == 2 ? 0.45 : k == 3 ? 0.18 : k == 4 ? 0.07 : 0; break;
                case 4: amp[k] = (k % 2 == 0 ? 0.7 : 1.0) / k; break;
                case 5: amp[k] = 1.0 / Math.pow(k, 3); break;
                default: amp[k] = k == 1 ? 1 : 0;
            }
        }
        float[] t = new float[TABLE_SIZE];
        double peak = 0;
        double[] v = new double[TABLE_SIZE];
        for (int i = 0; i < TABLE_SIZE; i++) {
            double x = 2 * Math.PI * i / TABLE_SIZE;
            double s = 0;
            for (int k = 1; k <= harmonics; k++) {
                if (amp[k] != 0) {
                    s += amp[k] * Math.sin(k * x);
                }
            }
            v[i] = s;
            peak = Math.max(peak, Math.abs(s));
        }
        for (int i = 0; i < TABLE_SIZE; i++) {
            t[i] = (float) (v[i] / peak);
        }
        return t;
    }
}

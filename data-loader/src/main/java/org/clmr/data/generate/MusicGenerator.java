package org.clmr.data.generate;

import org.clmr.data.random.Rng;
import org.clmr.protocol.UserError;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Renders a {@link Recipe} to audio: a key, a chord progression from the mode's scale, a melody (a
 * random walk on the scale that lands on chord tones), chords (sustained or pulsed), arpeggios, a bass
 * line and optional drums (a pitched-down sine kick, a noise-and-tone snare, noise hats). Each
 * instrument is mixed at a random level; the mix is normalised to a target RMS with a random gain
 * independent of the tags, so loudness tells nothing about the tags. Deterministic: a recipe always
 * renders the same samples. Thread-safe (no shared mutable state).
 */
public final class MusicGenerator {
    /** RMS of a rendered track before its random gain (-20 dBFS). */
    public static final double TARGET_RMS = 0.1;
    /** The random gain's range in dB, uniform in [-MAX_GAIN_DB, +MAX_GAIN_DB]. */
    public static final double MAX_GAIN_DB = 2.0;
    /**
     * The lowest sample rate the set renders at: its highest note (2.35 kHz) must lie below 0.45 of it, the
     * band limit of every instrument, or an instrument whose tag a track carries could stay silent.
     */
    public static final int MIN_SAMPLE_RATE = 8000;

    private static final int[] MAJOR = {0, 2, 4, 5, 7, 9, 11};
    private static final int[] MINOR = {0, 2, 3, 5, 7, 8, 10};
    private static final int[][] MAJOR_PROGRESSIONS = {{0, 4, 5, 3}, {0, 3, 4, 0}, {0, 5, 3, 4}, {0, 3, 0, 4}, {0, 1, 4, 0}};
    private static final int[][] MINOR_PROGRESSIONS = {{0, 5, 2, 6}, {0, 3, 4, 0}, {0, 6, 5, 6}, {0, 3, 6, 2}, {0, 5, 3, 4}};

    private enum Role { MELODY, CHORDS, ARPEGGIO, BASS }

    private MusicGenerator() {
    }

    /**
     * What a rendering made: the track, and per voice whether it sounded, so that a test can hold the tags to
     * what was rendered.
     *
     * @param samples  the track, floats in [-1, 1]
     * @param bpm      the tempo drawn inside the recipe's tempo bucket
     * @param sounded  the instruments whose stem holds a non-zero sample
     * @param drums    whether the drum stem holds a non-zero sample
     */
    record Rendering(float[] samples, double bpm, Set<Instrument> sounded, boolean drums) {
    }

    /** Renders {@code seconds} of {@code recipe} at {@code sampleRate}, floats in [-1, 1]. */
    public static float[] render(Recipe recipe, int sampleRate, double seconds) {
        return rendering(recipe, sampleRate, seconds).samples();
    }

    /** {@link #render} with what sounded. */
    static Rendering rendering(Recipe recipe, int sampleRate, double seconds) {
        int n = samples(sampleRate, seconds);
        Rng rng = new Rng(recipe.seed());
        double bpm = rng.uniform(recipe.tempo().minBpm, recipe.tempo().maxBpm);
        int beat = (int) Math.round(60.0 / bpm * sampleRate);
        int root = 48 + rng.nextInt(12);
        int[] scale = recipe.major() ? MAJOR : MINOR;
        int[][] progs = recipe.major() ? MAJOR_PROGRESSIONS : MINOR_PROGRESSIONS;
        int[] progression = progs[rng.nextInt(progs.length)];
        int barsPerChord = bpm < 90 ? 1 : 1 + rng.nextInt(2);
        int bars = (n + 4 * beat - 1) / (4 * beat);
        int[] chordOfBar = new int[bars];
        for (int b = 0; b < bars; b++) {
            chordOfBar[b] = progression[(b / barsPerChord) % progression.length];
        }
        float[] mix = new float[n];
        float[] stem = new float[n];
        List<Instrument> voices = new ArrayList<>(recipe.instruments());
        int[] order = new int[voices.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        rng.shuffle(order);
        Set<Instrument> sounded = EnumSet.noneOf(Instrument.class);
        List<Role> free = new ArrayList<>(List.of(Role.MELODY, Role.CHORDS, Role.ARPEGGIO));
        boolean solo = voices.size() == 1;
        for (int v : order) {
            Instrument inst = voices.get(v);
            Arrays.fill(stem, 0f);
            if (inst == Instrument.BASS) {
                bassLine(stem, inst, chordOfBar, scale, root - 24, beat, rng, sampleRate);
            } else {
                Role role = free.remove(0);
                if (solo || role == Role.CHORDS) {
                    int chordBase = root + 12 * rng.nextInt(2) + (inst == Instrument.BELL ? 12 : 0);
                    chords(stem, inst, chordOfBar, scale, chordBase, beat, rng, sampleRate);
                }
                if (solo || role == Role.MELODY) {
                    melody(stem, inst, chordOfBar, scale, root + 12 + 12 * rng.nextInt(2), beat, rng, sampleRate);
                } else if (role == Role.ARPEGGIO) {
                    arpeggio(stem, inst, chordOfBar, scale, root + 12 * rng.nextInt(2), beat, rng, sampleRate);
                }
            }
            if (addNormalised(mix, stem, dbToGain(rng.uniform(-3, 3)))) {
                sounded.add(inst);
            }
        }
        boolean drumsSounded = false;
        if (recipe.drums()) {
            Arrays.fill(stem, 0f);
            drums(stem, bars, beat, rng, sampleRate);
            drumsSounded = addNormalised(mix, stem, dbToGain(rng.uniform(-4, 0)));
        }
        finish(mix, TARGET_RMS * dbToGain(rng.uniform(-MAX_GAIN_DB, MAX_GAIN_DB)));
        return new Rendering(mix, bpm, sounded, drumsSounded);
    }

    /**
     * The number of samples of a track, after checking the rate and the length.
     *
     * @throws UserError when the rate is below {@link #MIN_SAMPLE_RATE} or the track would not fit in an array
     */
    public static int samples(int sampleRate, double seconds) {
        if (sampleRate < MIN_SAMPLE_RATE) {
            throw new UserError(String.format(Locale.ROOT, "the generated music set needs a sample rate of at least "
                    + "%d Hz (its highest notes are 2.35 kHz), not %d Hz; set --sample-rate %d or more",
                    MIN_SAMPLE_RATE, sampleRate, MIN_SAMPLE_RATE));
        }
        double n = Math.floor(seconds * sampleRate + 0.5); // Math.round, without its cast
        if (!(n >= 0 && n <= Integer.MAX_VALUE - 8)) {
            throw new UserError(String.format(Locale.ROOT, "a generated track of %s s at %d Hz is not between 0 and "
                    + "%d samples; choose a shorter --seconds", seconds, sampleRate, Integer.MAX_VALUE - 8));
        }
        return (int) n;
    }

    private static double freq(int midi) {
        return 440.0 * Math.pow(2, (midi - 69) / 12.0);
    }

    /** The MIDI note of scale degree {@code degree} (may exceed 6: next octaves) above {@code base}. */
    private static int note(int[] scale, int base, int degree) {
        int octave = Math.floorDiv(degree, 7);
        return base + 12 * octave + scale[Math.floorMod(degree, 7)];
    }

    private static void melody(float[] out, Instrument inst, int[] chordOfBar, int[] scale, int base, int beat,
                               Rng rng, int sr) {
        int degree = 2 + rng.nextInt(5);
        double[] lengths = {0.5, 1, 1, 1.5, 2};
        for (int bar = 0; bar < chordOfBar.length; bar++) {
            double t = 0;
            while (t < 4) {
                double len = Math.min(lengths[rng.nextInt(lengths.length)], 4 - t);
                if (t == 0) {
                    int chordTone = chordOfBar[bar] + 2 * rng.nextInt(3);
                    degree = chordTone + 7 * Math.round((degree - chordTone) / 7f);
                } else {
                    degree += rng.nextInt(5) - 2;
                }
                degree = Math.max(0, Math.min(11, degree));
                // a rest is drawn for every note, but the first note always sounds: a melody instrument that
                // never played in a short track would be a tag without sound
                boolean rest = rng.bernoulli(0.12);
                if (!rest || (bar == 0 && t == 0)) {
                    int start = (int) ((bar * 4 + t) * beat);
                    play(out, inst, start, (int) (len * beat * 0.9), note(scale, base, degree), rng.uniform(0.6, 1.0), sr);
                }
                t += len;
            }
        }
    }

    private static void chords(float[] out, Instrument inst, int[] chordOfBar, int[] scale, int base, int beat,
                               Rng rng, int sr) {
        int pulse = new int[] {4, 2, 1}[rng.nextInt(3)];
        for (int bar = 0; bar < chordOfBar.length; bar++) {
            int d = chordOfBar[bar];
            for (int b = 0; b < 4; b += pulse) {
                int start = (bar * 4 + b) * beat;
                double vel = rng.uniform(0.35, 0.5);
                for (int k = 0; k < 3; k++) {
                    play(out, inst, start, (int) (pulse * beat * 0.95), note(scale, base, d + 2 * k), vel, sr);
                }
            }
        }
    }

    private static void arpeggio(float[] out, Instrument inst, int[] chordOfBar, int[] scale, int base, int beat,
                                 Rng rng, int sr) {
        int[] pattern = rng.bernoulli(0.5) ? new int[] {0, 2, 4, 7} : new int[] {0, 4, 2, 4};
        for (int bar = 0; bar < chordOfBar.length; bar++) {
            for (int e = 0; e < 8; e++) {
                int start = bar * 4 * beat + e * beat / 2;
                play(out, inst, start, beat / 2, note(scale, base, chordOfBar[bar] + pattern[e % 4]), rng.uniform(0.5, 0.8), sr);
            }
        }
    }

    private static void bassLine(float[] out, Instrument inst, int[] chordOfBar, int[] scale, int base, int beat,
                                 Rng rng, int sr) {
        int step = rng.bernoulli(0.5) ? 1 : 2;
        for (int bar = 0; bar < chordOfBar.length; bar++) {
            for (int b = 0; b < 4; b += step) {
                int degree = chordOfBar[bar] + (b == 2 && rng.bernoulli(0.3) ? 4 : 0);
                play(out, inst, (bar * 4 + b) * beat, (int) (step * beat * 0.85), note(scale, base, degree),
                        rng.uniform(0.7, 1.0), sr);
            }
        }
    }

    private static void play(float[] out, Instrument inst, int start, int duration, int midi, double vel, int sr) {
        if (start < out.length) {
            inst.render(out, start, duration, freq(midi), vel, sr);
        }
    }

    private static void drums(float[] out, int bars, int beat, Rng rng, int sr) {
        boolean busyKick = rng.bernoulli(0.5);
        float[] kick = kick(sr);
        float[][] snares = new float[3][];
        float[][] hats = new float[4][];
        for (int v = 0; v < snares.length; v++) {
            snares[v] = snare(rng, sr);
        }
        for (int v = 0; v < hats.length; v++) {
            hats[v] = hat(rng, sr);
        }
        float hatLevel = (float) rng.uniform(0.5, 1.0);
        for (int bar = 0; bar < bars; bar++) {
            for (int b = 0; b < 4; b++) {
                int start = (bar * 4 + b) * beat;
                if (b % 2 == 0 || (busyKick && b == 3 && rng.bernoulli(0.5))) {
                    hit(out, start, kick, 1f);
                }
                if (b % 2 == 1) {
                    hit(out, start, snares[rng.nextInt(snares.length)], 1f);
                }
                hit(out, start, hats[rng.nextInt(hats.length)], hatLevel);
                hit(out, start + beat / 2, hats[rng.nextInt(hats.length)], 0.6f * hatLevel);
            }
        }
    }

    private static void hit(float[] out, int start, float[] sound, float gain) {
        int end = Math.min(out.length, start + sound.length);
        for (int i = start; i < end; i++) {
            out[i] += gain * sound[i - start];
        }
    }

    /** A sine swept down from 120 to 45 Hz. */
    private static float[] kick(int sr) {
        float[] k = new float[(int) (0.35 * sr)];
        double phase = 0;
        for (int i = 0; i < k.length; i++) {
            double t = i / (double) sr;
            phase += 2 * Math.PI * (45 + 75 * Math.exp(-t / 0.04)) / sr;
            k[i] = (float) (Math.sin(phase) * Math.exp(-t / 0.12));
        }
        return k;
    }

    /** Noise and a 185 Hz tone. */
    private static float[] snare(Rng rng, int sr) {
        float[] s = new float[(int) (0.2 * sr)];
        double tone = 2 * Math.PI * 185 / sr;
        for (int i = 0; i < s.length; i++) {
            double t = i / (double) sr;
            double noise = rng.nextDouble() * 2 - 1;
            s[i] = (float) (1.2 * noise * Math.exp(-t / 0.06) + 0.5 * Math.sin(tone * i) * Math.exp(-t / 0.04));
        }
        return s;
    }

    /** Differentiated (high-passed) noise, very short. */
    private static float[] hat(Rng rng, int sr) {
        float[] h = new float[(int) (0.05 * sr)];
        double prev = 0;
        for (int i = 0; i < h.length; i++) {
            double noise = rng.nextDouble() * 2 - 1;
            h[i] = (float) (0.7 * (noise - prev) * Math.exp(-i / (0.015 * sr)));
            prev = noise;
        }
        return h;
    }

    private static double dbToGain(double db) {
        return Math.pow(10, db / 20);
    }

    private static double rms(float[] x) {
        double s = 0;
        for (float v : x) {
            s += (double) v * v;
        }
        return Math.sqrt(s / Math.max(1, x.length));
    }

    /** Adds {@code stem} at {@code gain} times the target RMS; false when the stem is silent. */
    private static boolean addNormalised(float[] mix, float[] stem, double gain) {
        double r = rms(stem);
        if (r == 0) {
            return false;
        }
        float g = (float) (gain * TARGET_RMS / r);
        for (int i = 0; i < mix.length; i++) {
            mix[i] += g * stem[i];
        }
        return true;
    }

    /** Scales to {@code targetRms}; peaks above 0.9 are soft-limited so nothing clips. */
    private static void finish(float[] mix, double targetRms) {
        double r = rms(mix);
        float g = (float) (r == 0 ? 0 : targetRms / r);
        for (int i = 0; i < mix.length; i++) {
            float x = mix[i] * g;
            float a = Math.abs(x);
            if (a > 0.9f) {
                x = Math.copySign(0.9f + 0.1f * (float) Math.tanh((a - 0.9f) / 0.1f), x);
            }
            mix[i] = x;
        }
    }
}
